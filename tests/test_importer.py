"""Importing people from CSV: the whole file or nothing, every problem with its line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcbridge.extensions import db
from mcbridge.importer import ImportRejectedError, Limits, import_people
from mcbridge.models import Group, Person, Role
from tests import factories as make
from tests.helpers import process_env

HEADER = "first_name,last_name,email,additional_emails,group,role_type\n"


@pytest.fixture
def org(app):
    federation = make.group("Federation")
    north = make.group("North", federation)
    make.group("Club A", north)
    make.role_type("Member")
    make.role_type("Coach")
    db.session.commit()


def run(text: str, encoding: str = "utf-8", **options):
    return import_people(db.session, text.encode(encoding), **options)


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


LANGUAGE_HEADER = "first_name,last_name,email,language,group,role_type\n"


def test_a_language_column_takes_codes_and_names_in_english_french_and_german(org):
    make.person("Known", "Person", email="known@club-mail.ch")
    db.session.commit()
    run(
        LANGUAGE_HEADER
        + "Anna,Muster,anna@club-mail.ch,de,Federation/North,Member\n"
        + "Zoé,Rochat,zoe@club-mail.ch,Français,Federation/North,Member\n"
        + "Marco,Rossi,marco@club-mail.ch,Italienisch,Federation/North,Member\n"
        + "Kate,Smith,kate@club-mail.ch,anglais,Federation/North,Member\n"
        + "Lea,Ohne,lea@club-mail.ch,,Federation/North,Member\n"
        + "Known,Person,known@club-mail.ch,fr-CH,Federation/North,Member\n"
    )
    languages = dict(db.session.query(Person.first_name, Person.language))
    assert languages == {
        "Anna": "de",
        "Zoé": "fr",
        "Marco": "it",
        "Kate": "en",
        "Lea": None,
        "Known": "fr",
    }


def test_an_unknown_language_is_refused_with_its_line_and_nothing_is_written(org):
    listed = problems(
        LANGUAGE_HEADER
        + "Anna,Muster,anna@club-mail.ch,de,Federation/North,Member\n"
        + "Ana,Lopez,ana@club-mail.ch,Spanish,Federation/North,Member\n"
        + "Anna,Muster,anna@club-mail.ch,fr,Federation/North,Coach\n"
    )
    assert listed == [
        "line 3: unknown language “Spanish” (known: de, fr, it, en, or their names in "
        "English, French or German).",
        "line 4: anna@club-mail.ch is also on line 2 with another language.",
    ]
    assert db.session.query(Person).count() == 0


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


GOOD_ROW = "Anna,Muster,anna@club-mail.ch,,Federation/North,Member\n"


def test_a_cell_beyond_the_csv_modules_limit_is_a_problem_of_its_line(org):
    listed = problems(
        HEADER + GOOD_ROW + f"Ben,{'x' * 140_000},ben@club-mail.ch,,Federation,Member\n"
    )

    assert listed == [
        "line 3: the row is longer than 100,000 characters (a quotation mark left open?); "
        "nothing after it was read."
    ]
    assert db.session.query(Person).count() == 0


def test_a_quotation_mark_left_open_stops_at_the_row_limit(org):
    rows = "".join(f"Name{n},Last,n{n}@club-mail.ch,,Federation,Member\n" for n in range(40))
    limits = Limits(row_chars=500)  # the open row: 16 characters, then 46 a line

    listed = problems(HEADER + '"Open,Quote,,,,\n' + rows, limits=limits)

    assert listed == [
        "line 13: the row is longer than 500 characters (a quotation mark left open?); "
        "nothing after it was read."
    ]


def test_cells_too_long_for_a_cell_or_for_their_column_are_named_with_their_line(org):
    listed = problems(
        HEADER
        + GOOD_ROW
        + f"Ben,Long,ben@club-mail.ch,,Federation,Member,{'n' * 10_001}\n"
        + f"{'C' * 101},Long,carla@club-mail.ch,,Federation,Member\n"
        + f"Dora,Long,dora@club-mail.ch,,Federation/{'G' * 121},Member\n"
    )

    assert listed == [
        "line 3: a cell is longer than 10,000 characters.",
        "line 4: the first_name is longer than 100 characters.",
        f"line 5: the group name “{'G' * 121}” is longer than 120 characters.",
    ]


def test_a_file_beyond_the_size_limit_is_refused_where_it_crosses_it(org):
    row = "Anna,Muster,,,Federation/North,Member\n"
    lines = (1024 * 1024) // len(row) + 10

    listed = problems(HEADER + row * lines, limits=Limits(file_megabytes=1))

    assert len(listed) == 1
    assert listed[0].endswith("the file is larger than 1 MB; split it into smaller files.")
    assert listed[0].startswith(f"line {(1024 * 1024 - len(HEADER)) // len(row) + 2}:")


def test_nul_bytes_are_refused_with_their_line(org):
    listed = problems(HEADER + GOOD_ROW + "Ben\x00,Nul,ben@club-mail.ch,,Federation,Member\n")

    assert listed == ["line 3: the line holds a NUL byte: is this really a CSV file?"]
    assert db.session.query(Person).count() == 0


def encoded(*lines: tuple[str, str]) -> bytes:
    return b"".join(text.encode(encoding) for text, encoding in lines)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            encoded(
                (HEADER, "utf-8"),
                ("Zoé,Müller,zoe@club-mail.ch,,Federation,Member\n", "utf-8"),
                ("Léa,Rossé,lea@club-mail.ch,,Federation,Member\n", "cp1252"),
            ),
            "line 3: the line is not UTF-8 text like the lines before it; "
            "save the file again as “CSV UTF-8”.",
        ),
        (
            encoded(
                (HEADER, "utf-8"),
                ("Léa,Rossé,lea@club-mail.ch,,Federation,Member\n", "cp1252"),
                ("Zoé,Müller,zoe@club-mail.ch,,Federation,Member\n", "utf-8"),
            ),
            "line 3: the line is UTF-8 text, unlike the Windows-1252 lines before it; "
            "save the file again as “CSV UTF-8”.",
        ),
        (
            encoded(
                (HEADER, "utf-8"),
                ("ZoÃ©,MÃ¼ller,zoe@club-mail.ch,,Federation,Member\n", "utf-8"),
            ),
            "line 2: the text looks garbled by a wrong conversion (such as “Ã©” for “é”); "
            "correct it, or export the file again as “CSV UTF-8”.",
        ),
        (
            encoded((HEADER, "utf-8"), ("L\ufffda,Muster,,,Federation,Member\n", "utf-8")),
            "line 2: the text looks garbled by a wrong conversion (such as “Ã©” for “é”); "
            "correct it, or export the file again as “CSV UTF-8”.",
        ),
        (
            encoded((HEADER, "utf-16")),
            "line 1: the file is UTF-16 text; save it as “CSV UTF-8” instead.",
        ),
    ],
    ids=["cp1252-after-utf8", "utf8-after-cp1252", "double-encoded", "replacement", "utf16"],
)
def test_mis_encoded_text_is_refused_with_its_line(org, data, expected):
    with pytest.raises(ImportRejectedError) as rejected:
        import_people(db.session, data)

    assert [str(problem) for problem in rejected.value.problems] == [expected]
    assert db.session.query(Person).count() == 0


def test_real_names_are_not_taken_for_garbled_text(org):
    report = run(
        HEADER + "Jürgen,Strauß–Weiß,,,Federation,Member\n" + "Ægir,Øster,,,Federation,Member\n"
    )

    assert report.people_created == 2


def test_a_file_full_of_problems_lists_the_first_and_counts_them_all(runner, org, tmp_path):
    bad = tmp_path / "people.csv"
    bad.write_text(HEADER + "".join(f"P{n},Q,,,Federation,Astronaut\n" for n in range(150)))

    result = runner.invoke(args=["mcbridge", "import-people", str(bad)])

    assert result.exit_code == 1
    assert "nothing was imported, 150 problems:" in result.output
    assert "line 101: unknown role type" in result.output
    assert "line 102: unknown role type" not in result.output
    assert "… and 50 more." in result.output


def generated_file(path: Path, rows: int) -> Path:
    """`rows` new people, each with an additional address, in one club."""
    with path.open("w", encoding="utf-8") as file:
        file.write(HEADER)
        for n in range(rows):
            address = f"p{rows}-{n}@club-mail.ch,a{rows}-{n}@home-mail.ch"
            file.write(f"Zoé{n},Müller{n},{address},Federation/North,Member\n")
    return path


def peak_memory_of_import(app, path: Path) -> int:
    """Peak resident memory (KiB) of `flask mcbridge import-people FILE`, in its own process
    (os.wait4 gives that process's own figure)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "mcbridge", "import-people", str(path)],
        env=process_env(app),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, output
    return usage.ru_maxrss


def test_memory_does_not_grow_with_the_file(app, org, tmp_path):
    small = peak_memory_of_import(app, generated_file(tmp_path / "small.csv", 500))
    large = peak_memory_of_import(app, generated_file(tmp_path / "large.csv", 5_000))

    assert db.session.query(Person).count() == 5_500
    assert large < small + 20 * 1024, (small, large)  # before streaming: 16 KiB a row more
