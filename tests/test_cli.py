"""The `flask mcbridge …` commands."""

from __future__ import annotations

from mcbridge.extensions import db
from mcbridge.models import Group, MailingList, Person, User


def test_create_admin_reads_the_password_from_the_environment(runner):
    result = runner.invoke(
        args=["mcbridge", "create-admin", "Boss@Club-Mail.ch"],
        env={"MCBRIDGE_ADMIN_PASSWORD": "a very good password"},
    )
    assert result.exit_code == 0, result.output
    boss = db.session.query(User).one()
    assert (boss.email, boss.is_admin) == ("boss@club-mail.ch", True)
    assert boss.check_password("a very good password")


def test_create_admin_asks_for_the_password_twice(runner):
    result = runner.invoke(
        args=["mcbridge", "create-admin", "boss@club-mail.ch"],
        input="a very good password\na very good password\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.query(User).one().check_password("a very good password")


def test_create_admin_refuses_bad_input(runner):
    bad_email = runner.invoke(
        args=["mcbridge", "create-admin", "not-an-address"],
        env={"MCBRIDGE_ADMIN_PASSWORD": "x" * 12},
    )
    short = runner.invoke(
        args=["mcbridge", "create-admin", "boss@club-mail.ch"],
        env={"MCBRIDGE_ADMIN_PASSWORD": "short"},
    )
    assert bad_email.exit_code == 2
    assert "EMAIL" in bad_email.output
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    assert db.session.query(User).count() == 0


def test_seed_demo_builds_an_organisation_once(runner):
    first = runner.invoke(args=["mcbridge", "seed-demo"])
    assert first.exit_code == 0, first.output
    people = db.session.query(Person).count()
    assert 180 <= people <= 220
    assert db.session.query(Group).filter(Group.parent_id.is_(None)).count() == 1
    assert db.session.query(MailingList).count() == 2
    leader = db.session.query(User).one()
    assert leader.person is not None
    assert "Club leader sign-in:" in first.output

    again = runner.invoke(args=["mcbridge", "seed-demo"])
    assert again.exit_code == 0
    assert "nothing was seeded" in again.output
    assert db.session.query(Person).count() == people
