"""Importing people from CSV: the whole file or nothing, every problem with its line."""

from __future__ import annotations

import pytest

from mcbridge.extensions import db
from mcbridge.importer import ImportRejectedError, import_people
from mcbridge.models import Group, Person, Role
from tests import factories as make

HEADER = "first_name,last_name,email,additional_emails,group,role_type\n"


@pytest.fixture
def org(app):
    federation = make.group("Federation")
    north = make.group("North", federation)
    make.group("Club A", north)
    make.role_type("Member")
    make.role_type("Coach")
    db.session.commit()


def run(text: str, encoding: str = "utf-8", create_groups: bool = False):
    return import_people(db.session, text.encode(encoding), create_groups=create_groups)


def problems(text: str, **options) -> list[str]:
    with pytest.raises(ImportRejectedError) as rejected:
        run(text, **options)
    return [str(problem) for problem in rejected.value.problems]


def test_a_good_file_is_imported_with_roles_and_addresses(org):
    report = run(
        HEADER + "Anna,Muster,Anna.Muster@Club-Mail.ch,anna@work-mail.ch; anna@home-mail.ch,"
        "Federation/North/Club A,Member\n"
        + "Anna,Muster,anna.muster@club-mail.ch,,federation / north,coach\n"
        + "Ben,Ohne,,,Federation/North/Club A,Member\n"
    )
    assert (report.people_created, report.roles_created, report.emails_added) == (2, 3, 2)
    anna = db.session.query(Person).filter_by(email="anna.muster@club-mail.ch").one()
    assert sorted(e.email for e in anna.additional_emails) == [
        "anna@home-mail.ch",
        "anna@work-mail.ch",
    ]
    assert sorted((r.group.name, r.role_type.name) for r in anna.roles) == [
        ("Club A", "Member"),
        ("North", "Coach"),
    ]


def test_people_already_known_by_email_are_matched_not_duplicated(org):
    known = make.person("Known", "Person", email="known@club-mail.ch")
    db.session.commit()
    report = run(HEADER + "Known,Person,KNOWN@club-mail.ch,,Federation/North,Member\n")
    assert (report.people_created, report.people_matched, report.roles_created) == (0, 1, 1)
    assert [r.role_type.name for r in db.session.get(Person, known.id).roles] == ["Member"]


def test_every_problem_is_listed_with_its_line_and_nothing_is_written(org):
    listed = problems(
        HEADER
        + "Good,Row,good@club-mail.ch,,Federation/North,Member\n"
        + ",,nobody@club-mail.ch,,Federation/North,Member\n"
        + "Bad,Mail,bad@@club-mail,,Federation/North,Member\n"
        + "No,Group,no.group@club-mail.ch,,Federation/Nowhere,Member\n"
        + "No,Type,no.type@club-mail.ch,,Federation/North,Astronaut\n"
        + "Same,Address,good@club-mail.ch,,Federation/North,Member\n"
        + "Broken,Path,broken@club-mail.ch,,Federation//North,Member\n"
    )
    assert [problem.split(":")[0] for problem in listed] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
    ]
    assert "a first or last name is required" in listed[0]
    assert "bad@@club-mail" in listed[1]
    assert "no group “Federation/Nowhere”" in listed[2]
    assert "unknown role type “Astronaut” (known: Coach, Member)" in listed[3]
    assert "also on line 2 with another name" in listed[4]
    assert "incomplete" in listed[5]
    assert db.session.query(Person).count() == 0
    assert db.session.query(Role).count() == 0


def test_missing_columns_are_named(org):
    listed = problems("name,mail\nAnna,anna@club-mail.ch\n")
    assert len(listed) == 1
    assert "missing column(s): group, role_type, first_name / last_name" in listed[0]


def test_semicolon_files_in_windows_encoding_from_spreadsheets(org):
    text = (
        "first_name;last_name;email;group;role_type\n"
        "Zoé;Müller;zoe.mueller@club-mail.ch;Federation/North/Club A;Member\n"
    )
    report = run(text, encoding="cp1252")
    assert report.people_created == 1
    assert db.session.query(Person).one().last_name == "Müller"


def test_missing_groups_are_created_on_request(org):
    report = run(
        HEADER + "New,Club,new@club-mail.ch,,Federation/East/Club E,Member\n", create_groups=True
    )
    assert report.groups_created == 2
    club = db.session.query(Group).filter_by(name="Club E").one()
    assert club.path == "Federation / East / Club E"


def test_an_empty_file_is_refused(org):
    assert problems(HEADER) == ["line 1: the file has no rows to import."]


def test_cli_prints_problems_and_fails(runner, org, tmp_path):
    bad = tmp_path / "people.csv"
    bad.write_text(HEADER + "Anna,Muster,anna@club-mail.ch,,Federation/Nowhere,Member\n")
    result = runner.invoke(args=["mcbridge", "import-people", str(bad)])
    assert result.exit_code == 1
    assert "nothing was imported, 1 problem:" in result.output
    assert "line 2: no group" in result.output

    bad.write_text(HEADER + "Anna,Muster,anna@club-mail.ch,,Federation/North,Member\n")
    result = runner.invoke(args=["mcbridge", "import-people", str(bad)])
    assert result.exit_code == 0, result.output
    assert "1 new people" in result.output
