"""The subscriber view of a mailing list, and its Export dropdown."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from babel.numbers import format_decimal

from mcbridge import resolution, search
from mcbridge.admin import subscribers
from mcbridge.admin.subscriber_view import Sort
from mcbridge.admin.subscribers import ExportEntry, register_export
from mcbridge.connections import link
from mcbridge.extensions import db
from mcbridge.jobs import execute, ignore_progress, reserve
from mcbridge.models import Person, Role
from mcbridge.resolution import Order, walked_people
from tests import factories as make
from tests.helpers import sql_statements


def test_shows_recipients_counts_rules_and_people_without_email(as_leader, org):
    make.person_rule(org.north_list, org.north_leader)
    ghost = make.person("Ghost", "NoMail", email=None)
    make.role(ghost, org.club_a, org.member_type)
    db.session.commit()

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    assert org.alice.email in page
    assert "Member in Federation / North and the groups below" in page
    assert "Added directly: Nora Leader" in page
    assert "Ghost NoMail" in page
    counts = [int(n) for n in re.findall(r"<div class=\"h3 mb-0\">(\d+)</div>", page)]
    assert counts == [3, 2, 1]


def test_search_and_pages(as_admin, org):
    for number in range(60):
        make.role(make.person("Many", f"Member{number:02d}"), org.club_a, org.member_type)
    db.session.commit()
    url = f"/admin/subscribers/{org.north_list.id}/"

    first = as_admin.get(url).get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = as_admin.get(url + "?page=2").get_data(as_text=True)
    assert second.count("Many Member") == 11
    found = as_admin.get(url + "?q=member07").get_data(as_text=True)
    assert found.count("Many Member") == 1
    assert "Nobody matches this search." in as_admin.get(url + "?q=zzz").get_data(as_text=True)


def test_csv_download_has_every_recipient_and_opens_in_spreadsheets(as_leader, org):
    extra = make.person("Élodie", "Gaëtan, Jr.")
    make.role(extra, org.club_a, org.member_type)
    db.session.commit()

    response = as_leader.get(f"/admin/subscribers/{org.north_list.id}/subscribers.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="north-news-' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Email", "First name", "Last name"]
    assert sorted(row[0] for row in rows[1:]) == sorted([org.alice.email, extra.email])
    assert ["Élodie", "Gaëtan, Jr."] in [row[1:3] for row in rows]


def test_export_dropdown_lists_available_entries(as_leader, org, monkeypatch):
    monkeypatch.setattr(subscribers, "EXPORT_ENTRIES", list(subscribers.EXPORT_ENTRIES))
    register_export(
        ExportEntry(
            "Only for south",
            "mcbridge_subscribers.export_csv",
            available=lambda mailing_list: mailing_list.name == "South news",
        )
    )
    register_export(ExportEntry("Post somewhere", "mcbridge_subscribers.export_csv", method="POST"))

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    menu = page[page.index('id="export-menu"') :]
    assert "CSV (spreadsheet)" in menu
    assert "Only for south" not in menu
    post_entry = menu[: menu.index("Post somewhere")]
    assert 'method="post"' in post_entry[post_entry.rindex("<form") :]
    assert 'name="csrf_token"' in post_entry[post_entry.rindex("<form") :]


def test_unknown_list_is_404(as_admin, org):
    assert as_admin.get("/admin/subscribers/999999/").status_code == 404
    assert as_admin.get("/admin/subscribers/not-a-number/").status_code == 404


def recipients_table(page: str) -> str:
    return page[
        page.index('id="recipients"') : page.index("</table>", page.index('id="recipients"'))
    ]


def addresses_in(page: str) -> list[str]:
    """The addresses a subscriber view lists, top to bottom."""
    return re.findall(r"<td>([^<@]+@[^<]+)</td>", recipients_table(page))


def row_of(table: str, email: str) -> str:
    return re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(email)}.*?</tr>", table, re.S).group(0)


def test_each_row_shows_the_persons_own_roles_and_groups_and_links_to_them(as_leader, org):
    make.role(org.alice, org.north, org.member_type)
    make.person_rule(org.north_list, org.north_leader)
    db.session.commit()

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    table = recipients_table(page)
    alice = row_of(table, org.alice.email)
    assert f'href="/admin/people/details/?id={org.alice.id}' in alice
    assert re.search(r'data-column="role">Member<br>Member</td>', alice)
    assert re.search(r'data-column="group">Club A<br>North</td>', alice)
    assert "Added directly" in row_of(table, org.north_leader.email)
    assert "and the groups below" not in table


def test_the_roles_of_a_page_cost_the_same_queries_for_few_and_many_recipients(as_admin, org):
    url = f"/admin/subscribers/{org.north_list.id}/?sort=name"
    as_admin.get(url)
    with sql_statements() as few:
        as_admin.get(url)
    for number in range(80):
        make.role(make.person("Many", f"Member{number:02d}"), org.club_a, org.member_type)
    db.session.commit()
    assert "Page 1 of 2" in as_admin.get(url).get_data(as_text=True)
    with sql_statements() as many:
        page = as_admin.get(url).get_data(as_text=True)
    assert recipients_table(page).count('data-column="group">Club A</td>') == 50
    assert len(many) == len(few)


def test_columns_sort_in_both_directions_across_pages(as_admin, org):
    for last_name in ("Zeller", "Amrein", "Meier"):
        make.role(make.person("Sort", last_name), org.club_a, org.member_type)
    db.session.commit()
    url = f"/admin/subscribers/{org.north_list.id}/"

    def names(query: str) -> list[str]:
        table = recipients_table(as_admin.get(url + query).get_data(as_text=True))
        return re.findall(r">Sort (\w+)</a>", table)

    assert names("?sort=name") == ["Amrein", "Meier", "Zeller"]
    assert names("?sort=-name") == ["Zeller", "Meier", "Amrein"]
    page = as_admin.get(url + "?sort=name").get_data(as_text=True)
    assert '<th aria-sort="ascending"><a href="/admin/subscribers/' in page
    assert "sort=-name" in page
    emails = re.findall(
        r"<td>([^<]+@club-mail.ch)</td>", as_admin.get(url + "?sort=-email").get_data(as_text=True)
    )
    assert emails == sorted(emails, reverse=True)


def test_excluded_people_are_listed_apart_and_not_as_recipients(as_leader, org):
    make.person_rule(org.north_list, org.alice, excluded=True)
    db.session.commit()

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    assert org.alice.email not in recipients_table(page)
    excluded = page[page.index('id="excluded"') :]
    assert "Excluded from this list (1)" in excluded
    assert f'href="/admin/people/details/?id={org.alice.id}' in excluded


def test_an_unlinked_list_offers_to_link_it(as_leader, org):
    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)
    assert (
        f'href="/admin/mailchimp/{org.north_list.id}/">Link it to a Mailchimp audience</a>' in page
    )


def export_linked(org, sandbox, key: str | None = None):
    """The North list linked to a fresh sandbox audience and exported once, with `key`
    (an unknown one fails the run) in place of the connection's own."""
    account = sandbox.add_account()
    link(org.north_list, make.audience_of(account, sandbox.add_audience(account, "N"), org.north))
    org.north_list.consent_at = datetime.now(UTC).replace(tzinfo=None)
    org.north_list.connection.api_key = key or account
    db.session.commit()
    run = reserve(org.north_list, "cli", None, False)
    execute(run, ignore_progress)
    return run


def test_a_failed_export_says_why_and_links_to_its_run(as_leader, org, sandbox):
    run = export_linked(org, sandbox, key="0" * 32 + "-us1")

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    problem = page[page.index('id="last-export-problem"') :]
    assert "The last export failed." in problem
    assert "The API key was refused by Mailchimp" in problem
    assert f'href="/admin/exports/runs/{run.id}"' in problem


def test_a_partial_export_names_the_addresses_not_written(as_leader, org, sandbox):
    make.role(make.person("Fake", email="someone@example.com"), org.club_a, org.member_type)
    run = export_linked(org, sandbox)
    assert run.state == "partial"

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    problem = page[page.index('id="last-export-problem"') :]
    assert "The last export went through only in part." in problem
    assert "someone@example.com: someone@example.com looks fake or invalid" in problem
    assert f'href="/admin/exports/runs/{run.id}"' in problem


def test_search_finds_a_recipient_by_the_full_name_the_table_shows(as_admin, org):
    url = f"/admin/subscribers/{org.north_list.id}/?q="

    for typed in ("Alice North", "north ali"):
        assert org.alice.email in as_admin.get(url + typed).get_data(as_text=True)
    for typed in ("%", "_", "Alice South"):
        page = as_admin.get(url + typed).get_data(as_text=True)
        assert "Nobody matches this search." in page


def test_a_search_pages_in_one_order_through_names_and_addresses_and_counts_ahead(
    as_admin, org, monkeypatch
):
    """Found by name or by a delivery address's own words, in one order across pages; the
    matches are counted twenty pages (here two) past the page shown, no further."""
    monkeypatch.setattr(subscribers, "PAGE_SIZE", 10)
    monkeypatch.setattr(subscribers, "SEARCH_COUNTED", 20)
    org.north_list.sync_all_delivery_addresses = True
    members = [make.person("Many", f"Member{number:02d}") for number in range(25)]
    hat = make.person("Hat", "Member12b", extra=(("many.hats@club-mail.ch", True),))
    for someone in (*members, hat):
        make.role(someone, org.club_a, org.member_type)
    db.session.commit()
    url = f"/admin/subscribers/{org.north_list.id}/?q=many&sort=name&page="

    pages = [as_admin.get(url + str(number)).text for number in (1, 2, 3)]

    shown = [addresses_in(page) for page in pages]
    in_name_order = [someone.email for someone in members]
    in_name_order.insert(13, "many.hats@club-mail.ch")
    assert shown == [in_name_order[:10], in_name_order[10:20], in_name_order[20:]]
    assert "Addresses found: more than 20" in pages[0]
    assert "Page 1 of more than 2" in pages[0]
    # Page 2 counts up to 30: all of them.
    assert "Addresses found: 26" in pages[1]
    assert "Page 2 of 3" in pages[1]
    assert "Page 3 of 3" in pages[2]
    assert "Next" not in pages[2]


def test_a_sorted_search_sorts_the_matches_its_order_meets_late(as_admin, org, monkeypatch):
    """Walking the sort's order to a page is chosen only when the first addresses in
    that order hold the page; otherwise the search index's matches are sorted. The page
    is the same either way, in both directions."""
    monkeypatch.setattr(resolution, "WALKED_AHEAD", 5)
    early = [
        make.person("Early", f"E{number}", email=f"a{number}@club-mail.ch") for number in range(6)
    ]
    late = make.person("Late", "Comer", email="z@club-mail.ch")
    for someone in (*early, late):
        make.role(someone, org.club_a, org.member_type)
    db.session.commit()
    url = f"/admin/subscribers/{org.north_list.id}/"
    as_admin.get(url)
    by_address, backwards = Sort("email").apply, Sort("email", descending=True).apply

    def sorted_from_matches(term: str, order: Order, wanted: int) -> bool:
        return search.sorted_from_matches(term, walked_people(org.north_list.id, order), wanted)

    if not search.index_ready():
        pytest.skip("no search index: every search walks")
    assert not sorted_from_matches("early", by_address, 5)
    assert sorted_from_matches("early", by_address, 6), "five addresses looked at, not six"
    assert sorted_from_matches("late", by_address, 1)
    assert not sorted_from_matches("late", backwards, 1)
    addresses = [someone.email for someone in early]
    for sort, expected in (("email", addresses), ("-email", addresses[::-1])):
        for term, found in (("early", expected), ("comer", [late.email])):
            page = as_admin.get(url, query_string={"q": term, "sort": sort}).text
            assert addresses_in(page) == found, (term, sort)


def test_counts_are_grouped_in_the_users_language(as_admin, org):
    db.session.add_all(
        Role(person=Person(first_name="Many", last_name=f"M{n}"), group=org.club_a,
             role_type=org.member_type)
        for n in range(1000)
    )  # fmt: skip
    org.admin.locale = "fr"
    db.session.commit()

    page = as_admin.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    assert f'<div class="h3 mb-0">{format_decimal(1001, locale="fr")}</div>' in page
    assert f'<div class="h3 mb-0">{format_decimal(1000, locale="fr")}</div>' in page


def test_a_searchs_count_and_pages_are_written_in_the_users_language(as_admin, org, monkeypatch):
    monkeypatch.setattr(subscribers, "PAGE_SIZE", 1)
    db.session.add_all(
        Role(person=Person(first_name="Many", last_name=f"M{n}", email=f"many.{n}@club-mail.ch"),
             group=org.club_a, role_type=org.member_type)
        for n in range(1001)
    )  # fmt: skip
    org.admin.locale = "fr"
    db.session.commit()

    url = f"/admin/subscribers/{org.north_list.id}/?q=many&page=2"
    found = as_admin.get(url).get_data(as_text=True)

    thousand_and_one = format_decimal(1001, locale="fr")
    assert f"Adresses trouvées : {thousand_and_one}" in found
    assert f"Page 2 sur {thousand_and_one}" in found


def test_names_link_to_the_person_page_and_a_nameless_person_by_address(as_leader, org):
    nameless = Person(email="nameless@club-mail.ch")
    db.session.add(Role(person=nameless, group=org.club_a, role_type=org.member_type))
    db.session.commit()

    page = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)

    person_link = r'href="/admin/people/details/\?id=(\d+)[^"]*">([^<]*)</a>'
    links = {person_id: text.strip() for person_id, text in re.findall(person_link, page)}
    assert links[str(org.alice.id)] == "Alice North"
    assert links[str(nameless.id)] == "nameless@club-mail.ch"
    assert "/admin/people/edit/" not in page
