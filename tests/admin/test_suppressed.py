"""A list's suppressed addresses: every address its exports will not send, why and since
when; clearing a refusal makes the next export try the address again."""

from __future__ import annotations

from datetime import datetime

from mcbridge.extensions import db
from mcbridge.models import (
    AudienceMember,
    BringBackRequest,
    MailchimpEvent,
    MailingList,
    RefusedAddress,
)
from tests import factories as make
from tests.helpers import post_form, sign_in
from tests.sync.conftest import Club, club  # noqa: F401  (the linked club and its sandbox)

REFUSED_AT = datetime(2026, 3, 2, 9, 30)


def refuse(mailing_list: MailingList, email: str, message: str = "looks fake") -> RefusedAddress:
    refusal = RefusedAddress(
        mailing_list_id=mailing_list.id,
        email=email,
        reason="invalid",
        message=message,
        refused_at=REFUSED_AT,
    )
    db.session.add(refusal)
    db.session.commit()
    return refusal


def in_audience(mailing_list: MailingList, email: str, status: str, **columns) -> None:
    """The audience copy as an export or a webhook leaves it."""
    db.session.add(
        AudienceMember(
            mailing_list_id=mailing_list.id,
            email=email,
            status=status,
            last_changed="2026-04-05 10:00:00",
            **columns,
        )
    )
    db.session.commit()


def held_change(mailing_list: MailingList, email: str) -> None:
    db.session.add(
        MailchimpEvent(
            mailing_list_id=mailing_list.id,
            kind="upemail",
            email=email,
            new_email="new@club-mail.ch",
            fired_at="2026-04-06 08:00:00",
            source="mailchimp",
            received_at=datetime(2026, 4, 6, 8, 0),
            review="open",
        )
    )
    db.session.commit()


def test_every_kind_of_suppressed_address_with_its_reason(as_leader, org):
    news = org.north_list
    refuse(news, "fake@example.com", "fake@example.com looks fake or invalid")
    in_audience(news, "left@club-mail.ch", "unsubscribed")
    in_audience(news, "bounced@club-mail.ch", "cleaned")
    in_audience(news, "archived@club-mail.ch", "archived")
    in_audience(news, "ours@club-mail.ch", "archived", archived_by_mcbridge_at="2026-04-01")
    in_audience(news, "asked-back@club-mail.ch", "archived")
    in_audience(news, "fine@club-mail.ch", "subscribed")
    db.session.add(
        BringBackRequest(
            mailing_list_id=news.id, email="asked-back@club-mail.ch", requested_at=REFUSED_AT
        )
    )
    held_change(news, "moving@club-mail.ch")
    in_audience(org.south_list, "south@club-mail.ch", "unsubscribed")

    page = as_leader.get(f"/admin/suppressed/{news.id}/").get_data(as_text=True)

    rows = page.split('id="suppressed"')[1]
    assert "5 addresses" in page
    assert "fake@example.com looks fake or invalid" in rows
    for email, reason in (
        ("archived@club-mail.ch", "archived in Mailchimp by someone else"),
        ("bounced@club-mail.ch", "bouncing (cleaned by Mailchimp)"),
        ("fake@example.com", "refused by Mailchimp"),
        ("left@club-mail.ch", "unsubscribed"),
        ("moving@club-mail.ch", "held until a leader reviews a change"),
    ):
        row = rows.split(f">{email}</a>")[1].split("</tr>")[0]
        assert reason in row, email
    for kept in ("ours@", "asked-back@", "fine@", "south@"):
        assert kept not in rows
    assert rows.count("Try again") == 1


def test_many_suppressed_addresses_are_paged(as_admin, org):
    db.session.execute(
        AudienceMember.__table__.insert(),
        [
            {
                "mailing_list_id": org.north_list.id,
                "email": f"gone{number:03d}@club-mail.ch",
                "status": "unsubscribed",
                "fields": "",
            }
            for number in range(150)
        ],
    )
    db.session.commit()
    url = f"/admin/suppressed/{org.north_list.id}/"

    first = as_admin.get(url).get_data(as_text=True)
    second = as_admin.get(url + "?page=2").get_data(as_text=True)

    assert "Page 1 of 2" in first
    assert first.count("@club-mail.ch</a>") == 100
    assert second.count("@club-mail.ch</a>") == 50
    assert "gone149@club-mail.ch" in second
    assert "gone149@club-mail.ch" not in first


def test_a_leader_sees_and_clears_only_their_lists(as_leader, org):
    south_refusal = refuse(org.south_list, "south@example.com")

    assert as_leader.get(f"/admin/suppressed/{org.south_list.id}/").status_code == 404
    url = f"/admin/suppressed/{org.north_list.id}/refused/{south_refusal.id}/clear"
    page = f"/admin/suppressed/{org.north_list.id}/"
    assert post_form(as_leader, url, {}, page).status_code == 404
    south = f"/admin/suppressed/{org.south_list.id}/refused/{south_refusal.id}/clear"
    assert post_form(as_leader, south, {}, page).status_code == 404
    assert db.session.query(RefusedAddress).count() == 1


def test_clearing_a_refusal_is_recorded_and_the_next_export_tries_again(client, club: Club):  # noqa: F811
    club.join("Anna")
    club.join("Fake", email="someone@example.com")
    club.export()
    refusal = db.session.query(RefusedAddress).one()
    sign_in(client, make.user("admin@club-mail.ch", admin=True).email)
    db.session.commit()
    page = f"/admin/suppressed/{club.newsletter.id}/"
    assert "someone@example.com" in client.get(page).get_data(as_text=True)

    response = post_form(client, f"{page}refused/{refusal.id}/clear", {}, page)

    assert response.status_code == 302
    assert "someone@example.com will be tried again" in client.get(page).get_data(as_text=True)
    assert db.session.query(RefusedAddress).count() == 0
    why = client.get(f"/admin/why/{club.newsletter.id}/?email=someone@example.com").get_data(
        as_text=True
    )
    assert "admin@club-mail.ch cleared Mailchimp’s refusal" in why
    club.sandbox.clear_requests()
    again = club.export()
    assert again.refused == 1
    added = [call for call in club.write_calls() if call["path"] == f"/3.0/lists/{club.audience}"]
    assert [call["method"] for call in added] == ["POST"]
