"""Failure notices: the list's leaders get one mail per reason a person must fix, in their
language, with a link to the run; caught by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from flask_babel import force_locale

from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.models import SyncRun, User
from mcbridge.notices import HELD
from tests import factories as make
from tests.mail_catcher import body
from tests.sync.test_brake import club_of_twenty, daily_export, leave


def leader(club, email: str, locale: str | None) -> User:
    """An account whose person leads the club (a managing role in the list's group)."""
    chair = make.person("Chair", email=email)
    make.role(chair, club.club, make.role_type(f"Chair {email}", manages=True))
    user = make.user(email, holder=chair)
    user.locale = locale
    db.session.commit()
    return user


def without_consent(club) -> SyncRun:
    club.newsletter.consent_at = None
    db.session.commit()
    return daily_export(club)


def test_a_held_export_mails_each_leader_once_in_their_language(club, mailbox, app):
    app.config["MCBRIDGE_PUBLIC_URL"] = "https://members.example.org"
    members = club_of_twenty(club)
    leader(club, "chair@club-mail.ch", "fr")
    leader(club, "coach@club-mail.ch", "de")
    leave(members[:5])

    held = daily_export(club)

    french, german = sorted(mailbox.received(2), key=lambda mail: mail["To"])
    assert french["To"] == "chair@club-mail.ch"
    assert "Club news" in french["Subject"]
    assert '<html lang="fr">' in body(french, "html")
    assert '<html lang="de">' in body(german, "html")
    with force_locale("fr"):
        assert str(HELD) in " ".join(body(french).split())
    assert f"https://members.example.org/admin/exports/runs/{held.id}" in body(french)
    assert held.state == "held"

    again = daily_export(club)

    assert again.state == "held"
    assert len(mailbox.mails) == 2


def test_a_failure_is_mailed_once_until_an_export_works_again(club, mailbox):
    club.join("Anna")
    leader(club, "chair@club-mail.ch", None)

    assert without_consent(club).state == "failed"
    [mail] = mailbox.received(1)
    assert "consent" in body(mail)
    assert without_consent(club).state == "failed"
    assert len(mailbox.mails) == 1

    club.newsletter.consent_at = now()
    db.session.commit()
    assert daily_export(club).state == "success"
    assert without_consent(club).state == "failed"
    mailbox.received(2)


def test_the_administrators_hear_of_a_list_without_a_leader_account(club, mailbox):
    club.join("Anna")
    make.user("admin@club-mail.ch", admin=True)

    without_consent(club)

    [mail] = mailbox.received(1)
    assert mail["To"] == "admin@club-mail.ch"
