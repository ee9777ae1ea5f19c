"""Recipient downloads open as columns in Excel, whatever the user's language, and in
Excel's own format too."""

from __future__ import annotations

import csv
import io
import zipfile
from xml.etree import ElementTree

import pytest

from mcbridge.csv_export import xlsx_chunks
from mcbridge.extensions import db
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
