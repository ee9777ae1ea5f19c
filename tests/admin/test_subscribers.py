"""The subscriber view of a mailing list, and its Export dropdown."""

from __future__ import annotations

import csv
import io
import re

from mcbridge.admin import subscribers
from mcbridge.admin.subscribers import ExportEntry, register_export
from mcbridge.extensions import db
from tests import factories as make


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
