"""The recipient rules: who receives a mailing list, at which addresses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mcbridge.extensions import db
from mcbridge.recipients import Recipient, recipients_of
from tests import factories as make
from tests.helpers import sql_statements

TODAY = date(2026, 6, 15)


@pytest.fixture
def org(app):
    """Federation > Region > Club > Juniors > U12, and the usual role types."""
    federation = make.group("Federation")
    region = make.group("North", federation)
    club = make.group("Club A", region)
    juniors = make.group("Juniors", club)
    u12 = make.group("U12", juniors)
    other_region = make.group("South", federation)
    return {
        "federation": federation,
        "region": region,
        "club": club,
        "juniors": juniors,
        "u12": u12,
        "south": other_region,
        "leader": make.role_type("Leader", manages=True),
        "member": make.role_type("Member"),
        "coach": make.role_type("Coach"),
    }


def emails(mailing_list, today: date = TODAY) -> list[str]:
    return [recipient.email for recipient in recipients_of(mailing_list, today).stream(db.session)]


def resolved(mailing_list, today: date = TODAY) -> list[Recipient]:
    return list(recipients_of(mailing_list, today).stream(db.session))


def test_role_rule_reaches_groups_several_levels_below(org):
    deep = make.person("Deep")
    make.role(deep, org["u12"], org["member"])
    here = make.person("Here")
    make.role(here, org["region"], org["member"])
    above = make.person("Above")
    make.role(above, org["federation"], org["member"])
    sideways = make.person("Sideways")
    make.role(sideways, org["south"], org["member"])
    newsletter = make.mailing_list(org["region"])
    make.role_rule(newsletter, org["region"], org["member"])

    assert sorted(emails(newsletter)) == sorted([deep.email, here.email])


def test_only_the_rules_role_types_match(org):
    coach, member, leader = make.person("Coach"), make.person("Member"), make.person("Leader")
    make.role(coach, org["club"], org["coach"])
    make.role(member, org["club"], org["member"])
    make.role(leader, org["club"], org["leader"])
    coaches_and_leaders = make.mailing_list(org["club"])
    make.role_rule(coaches_and_leaders, org["club"], org["coach"], org["leader"])

    assert sorted(emails(coaches_and_leaders)) == sorted([coach.email, leader.email])


@pytest.mark.parametrize(
    ("start_on", "end_on", "receives"),
    [
        (None, None, True),
        (TODAY, None, True),
        (None, TODAY, True),
        (None, TODAY - timedelta(days=1), False),
        (TODAY + timedelta(days=1), None, False),
        (TODAY - timedelta(days=30), TODAY + timedelta(days=30), True),
    ],
    ids=["open", "starts-today", "ends-today", "ended-yesterday", "starts-tomorrow", "running"],
)
def test_only_active_roles_count(org, start_on, end_on, receives):
    holder = make.person()
    make.role(holder, org["club"], org["member"], start_on=start_on, end_on=end_on)
    members = make.mailing_list(org["club"])
    make.role_rule(members, org["club"], org["member"])

    assert emails(members) == ([holder.email] if receives else [])


def test_person_rule_adds_someone_without_a_matching_role(org):
    guest = make.person("Guest")
    newsletter = make.mailing_list(org["club"])
    make.person_rule(newsletter, guest)

    assert emails(newsletter) == [guest.email]


def test_exclusion_beats_every_include(org):
    excluded = make.person("Excluded")
    make.role(excluded, org["club"], org["member"])
    kept = make.person("Kept")
    make.role(kept, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"])
    make.role_rule(newsletter, org["club"], org["member"])
    make.person_rule(newsletter, excluded)
    make.person_rule(newsletter, excluded, excluded=True)

    assert emails(newsletter) == [kept.email]


def test_people_reached_by_several_rules_appear_once_with_the_first_rule(org):
    busy = make.person("Busy")
    make.role(busy, org["club"], org["member"])
    make.role(busy, org["juniors"], org["coach"])
    newsletter = make.mailing_list(org["club"])
    first = make.role_rule(newsletter, org["club"], org["member"])
    make.role_rule(newsletter, org["juniors"], org["coach"])
    make.person_rule(newsletter, busy)

    (only,) = resolved(newsletter)
    assert (only.email, only.via_subscription_id) == (busy.email, first.id)


def test_delivery_addresses_are_sent_only_when_the_list_asks(org):
    holder = make.person(
        "Multi", extra=(("work.multi@company-mail.ch", True), ("private.multi@home-mail.ch", False))
    )
    make.role(holder, org["club"], org["member"])
    primary_only = make.mailing_list(org["club"], "Primary only")
    make.role_rule(primary_only, org["club"], org["member"])
    all_delivery = make.mailing_list(org["club"], "All delivery", all_delivery=True)
    make.role_rule(all_delivery, org["club"], org["member"])

    assert emails(primary_only) == [holder.email]
    recipients = resolved(all_delivery)
    assert [(r.email, r.primary) for r in recipients] == [
        (holder.email, True),
        ("work.multi@company-mail.ch", False),
    ]
    assert {r.first_name for r in recipients} == {"Multi"}


def test_a_shared_address_is_sent_once_for_the_lowest_person_id(org):
    older = make.person("Claire", "Rochat", email="famille.rochat@home-mail.ch")
    younger = make.person("Hugo", "Rochat", email="famille.rochat@home-mail.ch")
    repeats = make.person("Repeat", extra=(("repeat.x@club-mail.ch", True),))
    repeats.additional_emails[0].email = repeats.email
    for someone in (older, younger, repeats):
        make.role(someone, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(newsletter, org["club"], org["member"])

    recipients = resolved(newsletter)
    assert [(r.email, r.person_id, r.primary) for r in recipients] == [
        ("famille.rochat@home-mail.ch", older.id, True),
        (repeats.email, repeats.id, True),
    ]


def test_addresses_are_stored_lowercased_and_trimmed(org):
    shouting = make.person("Shouting", email="  Anna.MUSTER@Club-Mail.CH ")
    make.role(shouting, org["club"], org["member"])
    same = make.person("Same", email="anna.muster@club-mail.ch")
    make.role(same, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"])
    make.role_rule(newsletter, org["club"], org["member"])

    assert emails(newsletter) == ["anna.muster@club-mail.ch"]


def test_people_without_a_usable_address_are_counted_and_listed(org):
    nobody = make.person("Nobody", email=None)
    only_extra = make.person("OnlyExtra", email=None, extra=(("only.extra@club-mail.ch", True),))
    reachable = make.person("Reachable")
    for someone in (nobody, only_extra, reachable):
        make.role(someone, org["club"], org["member"])
    primary_only = make.mailing_list(org["club"])
    make.role_rule(primary_only, org["club"], org["member"])
    all_delivery = make.mailing_list(org["club"], "All", all_delivery=True)
    make.role_rule(all_delivery, org["club"], org["member"])

    recipients = recipients_of(primary_only, TODAY)
    counts = recipients.counts(db.session)
    assert (counts.people, counts.addresses, counts.skipped) == (3, 1, 2)
    skipped = [person.first_name for person, _via in db.session.execute(recipients.skipped())]
    assert sorted(skipped) == ["Nobody", "OnlyExtra"]

    counts = recipients_of(all_delivery, TODAY).counts(db.session)
    assert (counts.people, counts.addresses, counts.skipped) == (3, 2, 1)


def test_rules_of_other_lists_do_not_leak(org):
    member = make.person()
    make.role(member, org["club"], org["member"])
    guest = make.person("Guest")
    ours = make.mailing_list(org["club"], "Ours")
    make.role_rule(ours, org["club"], org["member"])
    theirs = make.mailing_list(org["club"], "Theirs")
    make.person_rule(theirs, guest)
    make.person_rule(theirs, member, excluded=True)

    assert emails(ours) == [member.email]
    assert emails(theirs) == [guest.email]


def test_resolution_is_one_query_however_many_people(org):
    newsletter = make.mailing_list(org["federation"], all_delivery=True)
    make.role_rule(newsletter, org["federation"], org["member"], org["coach"])
    groups = [org["club"], org["juniors"], org["u12"], org["south"]]
    for number in range(60):
        someone = make.person(extra=((f"extra{number}@club-mail.ch", True),))
        make.role(someone, groups[number % 4], org["member"])
    db.session.commit()
    db.session.refresh(newsletter)

    with sql_statements() as statements:
        assert len(resolved(newsletter)) == 120
    assert len(statements) == 1


def test_the_exports_address_order_gives_the_same_recipients(org):
    older = make.person("Claire", "Rochat", email="famille.rochat@home-mail.ch")
    younger = make.person("Hugo", "Rochat", email="famille.rochat@home-mail.ch")
    extra = make.person(
        "Zed", extra=(("a.first@club-mail.ch", True), ("z.last@club-mail.ch", True))
    )
    for someone in (younger, older, extra):
        make.role(someone, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(newsletter, org["club"], org["member"])

    by_person = resolved(newsletter)
    by_address = list(recipients_of(newsletter, TODAY).stream(db.session, by_address=True))

    assert sorted(by_person, key=lambda r: r.email) == by_address
    assert [r.email for r in by_address] == sorted(r.email for r in by_address)
    shared = next(r for r in by_address if r.email == "famille.rochat@home-mail.ch")
    assert shared.first_name == "Claire"
