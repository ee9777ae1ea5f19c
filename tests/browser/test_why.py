"""A leader asks why the newsletter reaches someone or not, and clears a refusal, in each
language."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from playwright.sync_api import expect

from mcbridge.extensions import db
from mcbridge.models import RefusedAddress, Role
from tests.browser.helpers import check, follow, sign_in, t, visit


def test_a_leader_asks_why_and_clears_a_refusal(page, club, language):
    anna, ben, carla = club.people
    db.session.query(Role).filter_by(person_id=ben.id).update(
        {"end_on": date.today() - timedelta(days=2)}
    )
    db.session.add(
        RefusedAddress(
            mailing_list_id=club.newsletter.id,
            email=carla.email,
            reason="invalid",
            message=f"{carla.email} looks fake or invalid",
            refused_at=datetime(2026, 3, 2, 9, 30),
        )
    )
    db.session.commit()
    sign_in(page, language, club.leader.email)
    visit(page, f"/admin/subscribers/{club.newsletter.id}/")

    why_anna = t(language, "Why does %(email)s receive this list?", email=anna.email)
    follow(page, page.get_by_role("link", name=why_anna))
    anna_section = page.get_by_role("region", name="Anna Meier")
    expect(anna_section).to_contain_text(t(language, "receives this list"))
    rule = t(
        language,
        "%(role_types)s in %(group)s and the groups below",
        role_types="Member",
        group="Swiss Rowing / Rowing Club Basel",
    )
    expect(anna_section).to_contain_text(rule)

    page.get_by_label(t(language, "Address"), exact=True).fill(ben.email)
    follow(page, page.get_by_role("button", name=t(language, "Explain")))
    ben_section = page.get_by_role("region", name="Ben Favre")
    expect(ben_section).to_contain_text(t(language, "does not receive this list"))
    expect(ben_section.locator(".reasons")).to_contain_text(str(ben.roles[0].end_on.year))

    follow(page, page.get_by_role("link", name=t(language, "Addresses not sent")))
    table = page.locator("#suppressed")
    expect(table).to_contain_text(carla.email)
    expect(table).to_contain_text(t(language, "refused by Mailchimp"))
    again = t(language, "Try %(email)s again at the next export", email=carla.email)
    follow(page, page.get_by_role("button", name=again))
    expect(
        page.get_by_text(
            t(language, "%(email)s will be tried again at the next export.", email=carla.email)
        )
    ).to_be_visible()
    expect(table).not_to_contain_text(carla.email)
    check(page)
