"""Recipient downloads open as columns in Excel, whatever the user's language, and in
Excel's own format too."""

from __future__ import annotations

import csv
import io
import zipfile
from xml.etree import ElementTree

import pytest

from mcbridge.csv_export import COMMAS, CSV_CHUNK, SEMICOLONS, csv_chunks, xlsx_chunks
from mcbridge.extensions import db
from mcbridge.models import Person
from mcbridge.recipients import recipients_of
from tests import factories as make
from tests.admin.conftest import Organisation

SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def download(client, org: Organisation, kind: str, language: str):
    return client.get(
        f"/admin/subscribers/{org.north_list.id}/subscribers.{kind}",
        headers={"Accept-Language": language},
    )


@pytest.mark.parametrize(
    ("language", "separator", "heading"),
    [("fr-CH", ";", "Prénom"), ("de-CH", ";", "Vorname"), ("en", ",", "First name")],
)
def test_the_csv_is_split_the_way_excel_splits_in_the_users_language(
    as_leader, org, language, separator, heading
):
    org.alice.company = "Rowing, Sailing & Co"
    db.session.commit()

    text = download(as_leader, org, "csv", language).get_data(as_text=True)

    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=separator))
    assert rows[0][1] == heading
    alice = next(row for row in rows if row[0] == org.alice.email)
    assert alice[4] == "Rowing, Sailing & Co"
    assert len(alice) == 7


def cells_of(workbook: bytes, number: int = 1) -> list[list[str]]:
    """A sheet's text, row by row (inline strings, as XlsxWriter's streaming mode writes
    them)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = ElementTree.fromstring(archive.read(f"xl/worksheets/sheet{number}.xml"))
    return [
        ["".join(cell.itertext()) for cell in row.iter(f"{SHEET}c")]
        for row in sheet.iter(f"{SHEET}row")
    ]


def cell_kinds(workbook: bytes) -> set[str | None]:
    """The types of the first sheet's cells; a formula would also show as an `f` element."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    assert not list(sheet.iter(f"{SHEET}f"))
    return {cell.get("t") for cell in sheet.iter(f"{SHEET}c")}


def test_the_excel_download_holds_every_recipient_as_text(as_leader, org):
    org.alice.company = '=HYPERLINK("https://evil.example","Click")'
    db.session.commit()

    response = download(as_leader, org, "xlsx", "de-CH")

    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    rows = cells_of(response.get_data())
    assert rows[0][:3] == ["E-Mail", "Vorname", "Nachname"]
    alice = next(row for row in rows if row[0] == org.alice.email)
    assert alice[4] == org.alice.company
    assert cell_kinds(response.get_data()) == {"inlineStr"}
    subscribers = as_leader.get(f"/admin/subscribers/{org.north_list.id}/").get_data(as_text=True)
    assert f"/admin/subscribers/{org.north_list.id}/subscribers.xlsx" in subscribers


def test_rows_beyond_a_sheet_go_on_to_the_next_sheets_under_the_same_heading():
    rows = iter([["Email"], *([f"person{number}@club-mail.ch"] for number in range(5))])

    workbook = b"".join(xlsx_chunks(rows, "Club news", rows_per_sheet=3))

    assert [cells_of(workbook, number) for number in (1, 2, 3)] == [
        [["Email"], ["person0@club-mail.ch"], ["person1@club-mail.ch"]],
        [["Email"], ["person2@club-mail.ch"], ["person3@club-mail.ch"]],
        [["Email"], ["person4@club-mail.ch"]],
    ]


@pytest.fixture
def crowded(org: Organisation) -> dict[str, Person]:
    """North news with every way of reaching, or not reaching, an address: an address two
    people share, delivery addresses (one with the list's label, one without, one someone
    else has as their own), an exclusion, a language filter, a person added directly."""
    newsletter = org.north_list
    newsletter.sync_all_delivery_addresses, newsletter.delivery_labels = True, ["work"]
    newsletter.filter_language = "de"
    org.alice.language = "de"
    dora = make.person("Dora", "Desk", extra=(("desk@firm.ch", True), ("dora@home.ch", True)))
    dora.additional_emails[0].label, dora.additional_emails[1].label = "Work", "home"
    people = {
        "dora": dora,
        "fam_one": make.person("Fam", "One", email="family@club-mail.ch"),
        "fam_two": make.person("Fam", "Two", email="family@club-mail.ch"),
        "emil": make.person("Emil", "Desk", email="desk@firm.ch"),
        "eve": make.person("Eve", "Excluded"),
        "fritz": make.person("Fritz", "Français"),
        "gina": make.person("Gina", "Guest"),
    }
    for name, person in people.items():
        person.language = "fr" if name == "fritz" else "de"
        if name != "gina":
            make.role(person, org.club_a, org.member_type)
    make.person_rule(newsletter, people["eve"], excluded=True)
    make.person_rule(newsletter, people["gina"])
    db.session.commit()
    return people


def csv_rows(client, org: Organisation) -> list[list[str]]:
    text = download(client, org, "csv", "en").get_data(as_text=True)
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_download_holds_the_recipients_of_the_subscriber_view_in_address_order(
    as_leader, org, crowded
):
    rows = csv_rows(as_leader, org)

    assert [[row[0], row[1], row[2], row[5]] for row in rows[1:]] == [
        [org.alice.email, "Alice", "North", "primary"],
        ["desk@firm.ch", "Dora", "Desk", "delivery address"],
        [crowded["dora"].email, "Dora", "Desk", "primary"],
        ["family@club-mail.ch", "Fam", "One", "primary"],
        [crowded["gina"].email, "Gina", "Guest", "primary"],
    ]
    reached_by = {row[1]: row[6] for row in rows[1:]}
    assert reached_by["Gina"].startswith("Added directly: Gina Guest")
    assert reached_by["Alice"] == "Member in Federation / North and the groups below"
    recipients = recipients_of(org.north_list)
    shown = db.session.execute(recipients.addresses()).all()
    assert sorted(row[:3] for row in rows[1:]) == sorted(
        [row.email, row.first_name, row.last_name] for row in shown
    )


def test_the_csv_the_excel_file_and_the_recipients_command_hold_the_same_rows(
    as_leader, runner, org, crowded
):
    rows = csv_rows(as_leader, org)
    workbook = download(as_leader, org, "xlsx", "en").get_data()
    listing = runner.invoke(args=["mcbridge", "recipients", str(org.north_list.id)])

    assert len(rows) == 6
    assert cells_of(workbook) == rows
    assert list(csv.reader(io.StringIO(listing.output.lstrip("\ufeff")))) == rows


def test_the_csv_streams_its_heading_at_once_then_many_rows_per_chunk(as_leader, org):
    """The heading goes alone, before the database reads and sorts the rows, so that the
    browser starts the download at once; the rows then go in pieces, not one by one."""
    for number in range(30):
        make.role(make.person("Many", f"Member{number:02d}"), org.club_a, org.member_type)
    db.session.commit()

    response = download_streamed(as_leader, org)
    chunks = list(response.response)
    response.close()

    lines = b"".join(chunks).decode().lstrip("\ufeff").splitlines()
    assert len(lines) == 32
    assert len(chunks) < len(lines)
    assert chunks[0].decode().lstrip("\ufeff").splitlines() == [lines[0]]


def download_streamed(client, org: Organisation):
    """The response before its body is read: its iterator yields the chunks as sent."""
    url = f"/admin/subscribers/{org.north_list.id}/subscribers.csv"
    return client.get(url, headers={"Accept-Language": "en"}, buffered=False)


def test_a_long_csv_comes_in_pieces_of_bounded_size():
    rows = iter([["Email"], *([f"person{number}@club-mail.ch"] for number in range(20_000))])

    chunks = list(csv_chunks(rows, COMMAS))

    assert len(chunks) > 5
    assert max(len(chunk) for chunk in chunks) < CSV_CHUNK + 100
    text = "".join(chunks)
    assert text.startswith('\ufeff"Email"\r\n"person0@club-mail.ch"\r\n')
    assert text.endswith('"person19999@club-mail.ch"\r\n')
    assert text.count("\r\n") == 20_001


@pytest.mark.parametrize("style", [COMMAS, SEMICOLONS])
def test_the_csv_is_written_as_the_csv_module_writes_it_with_every_cell_quoted(style):
    rows = [["Email", "Company"], ['say "hi"', "a,b;c"], ["line\nbreak", ""], ["=1+1", "ok"]]
    safe = [["Email", "Company"], ['say "hi"', "a,b;c"], ["line\nbreak", ""], ["'=1+1", "ok"]]
    expected = io.StringIO()
    csv.writer(expected, delimiter=style.delimiter, quoting=csv.QUOTE_ALL).writerows(safe)

    text = "".join(csv_chunks(iter(rows), style))

    assert text == "\ufeff" + expected.getvalue()
    assert list(csv.reader(io.StringIO(text[1:]), delimiter=style.delimiter)) == safe
