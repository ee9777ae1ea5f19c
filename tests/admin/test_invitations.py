"""Invitations and password resets by mail, caught by a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale

from mcbridge.extensions import db
from mcbridge.models import User
from mcbridge.password_links import INVITATION, MAIL_TEXTS, RESET
from tests.helpers import TOKEN, csrf_token, post_form, sign_in
from tests.mail_catcher import body, link_in

NEW_PASSWORD = "a brand new secret"
SAME_ANSWER = "If an account uses this address, a link to choose a new password is on its way."


def path_of(link: str) -> str:
    return urlsplit(link).path


def open_link(client, link: str):
    """Open a mailed link as a browser does: it moves on to the token-free form."""
    return client.get(path_of(link), follow_redirects=True)


def choose_password(client, link: str, password: str = NEW_PASSWORD, again: str | None = None):
    """Follow a mailed link and choose a password, as its recipient does."""
    page = open_link(client, link).request.path
    data = {"password": password, "confirm": again or password}
    return client.post(page, data={**data, "csrf_token": csrf_token(client, page)})


def invite(client, email: str, **fields: str):
    return post_form(client, "/admin/users/new/", {"email": email, "active": "y", **fields})


@pytest.fixture
def stranger(app):
    """A browser nobody signed in with."""
    return app.test_client()


def test_an_invited_person_chooses_a_password_and_signs_in(as_admin, org, mailbox, stranger):
    response = invite(as_admin, "Chloe@Club-Mail.ch")
    assert response.status_code == 302
    assert "An invitation was sent to chloe@club-mail.ch." in as_admin.get(
        "/admin/users/"
    ).get_data(as_text=True)
    (mail,) = mailbox.mails
    assert mail["To"] == "chloe@club-mail.ch"
    assert mail["Subject"] == "Your mcbridge account"
    assert link_in(mail) in body(mail, "html")
    chosen = choose_password(stranger, link_in(mail))
    assert chosen.status_code == 302
    assert "You can sign in with it now" in stranger.get(chosen.location).get_data(as_text=True)
    sign_in(stranger, "chloe@club-mail.ch", NEW_PASSWORD)


def test_a_used_link_is_refused(as_admin, org, mailbox, stranger):
    invite(as_admin, "chloe@club-mail.ch")
    link = link_in(mailbox.mails[0])
    choose_password(stranger, link)
    again = open_link(stranger, link)
    assert again.status_code == 404
    assert "This link was already used or is no longer valid." in again.get_data(as_text=True)
    assert choose_password(stranger, link, "another new secret").status_code == 404
    sign_in(stranger, "chloe@club-mail.ch", NEW_PASSWORD)


def test_an_expired_link_is_refused(app, as_admin, org, mailbox, stranger):
    invite(as_admin, "chloe@club-mail.ch")
    app.config["MCBRIDGE_INVITATION_HOURS"] = 0
    page = open_link(stranger, link_in(mailbox.mails[0]))
    assert page.status_code == 404
    assert "This link has expired. Ask for a new one." in page.get_data(as_text=True)


def test_a_damaged_link_is_refused(as_admin, org, mailbox, stranger):
    invite(as_admin, "chloe@club-mail.ch")
    page = open_link(stranger, link_in(mailbox.mails[0])[:-3] + "xyz")
    assert page.status_code == 404
    assert "This link is not valid." in page.get_data(as_text=True)


def test_two_different_passwords_are_explained_and_the_link_still_works(
    as_admin, org, mailbox, stranger
):
    invite(as_admin, "chloe@club-mail.ch")
    link = link_in(mailbox.mails[0])
    mismatch = choose_password(stranger, link, NEW_PASSWORD, "a brand new secreT")
    assert "The two passwords are not the same." in mismatch.get_data(as_text=True)
    short = choose_password(stranger, link, "short")
    assert short.status_code == 200
    assert choose_password(stranger, link).status_code == 302


def subject_in(language: str, purpose: str) -> str:
    with force_locale(language):
        return str(MAIL_TEXTS[purpose]["subject"])


def assert_written_in(mail, language: str, purpose: str) -> None:
    assert mail["Subject"] == subject_in(language, purpose)
    assert f'<html lang="{language}">' in body(mail, "html")


def test_the_invitation_is_written_in_the_accounts_language(as_admin, org, mailbox):
    invite(as_admin, "chloe@club-mail.ch", locale="fr")
    assert_written_in(mailbox.mails[0], "fr", INVITATION)


def test_an_invitation_without_a_language_is_in_the_administrators_page_language(
    as_admin, org, mailbox
):
    as_admin.post("/admin/account/language/de", data={"csrf_token": csrf_token(as_admin)})
    invite(as_admin, "chloe@club-mail.ch")
    assert_written_in(mailbox.mails[0], "de", INVITATION)


def test_a_reset_asked_from_a_french_browser_is_in_french(org, mailbox, stranger):
    stranger.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-CH,fr;q=0.9"
    post_form(stranger, "/admin/account/forgot-password", {"email": org.leader.email})
    (mail,) = mailbox.received()
    assert_written_in(mail, "fr", RESET)


def test_the_link_moves_on_to_an_address_without_its_token(as_admin, org, mailbox, stranger):
    invite(as_admin, "chloe@club-mail.ch")
    link = link_in(mailbox.mails[0])
    token = path_of(link).rsplit("/", 1)[1]

    opened = open_link(stranger, link)

    assert "Choose" in opened.get_data(as_text=True)
    assert token not in opened.request.url
    chosen = choose_password(stranger, link)
    assert token not in chosen.location
    assert token not in stranger.get(chosen.location).request.url


def test_without_mail_the_administrator_is_told_and_sets_a_password(app, as_admin, org):
    app.config["MAIL_URL"] = ""
    form = as_admin.get("/admin/users/new/").get_data(as_text=True)
    assert "invitations cannot be sent" in form
    refused = invite(as_admin, "chloe@club-mail.ch")
    assert "This installation sends no mail (MAIL_URL): give the account a password." in (
        refused.get_data(as_text=True)
    )
    assert db.session.query(User).filter_by(email="chloe@club-mail.ch").count() == 0
    assert invite(as_admin, "chloe@club-mail.ch", new_password=NEW_PASSWORD).status_code == 302
    assert db.session.query(User).filter_by(email="chloe@club-mail.ch").count() == 1


def test_a_new_accounts_password_field_does_not_speak_of_keeping_one(as_admin, org, mailbox):
    form = as_admin.get("/admin/users/new/").get_data(as_text=True)
    assert "Leave empty to keep the current password" not in form
    assert "Leave empty to send an invitation by mail" in form


def test_an_unreachable_mail_server_is_reported_and_the_account_kept(app, as_admin, org):
    app.config["MAIL_URL"] = "smtp://user:hunter2-secret@127.0.0.1:1"
    invite(as_admin, "chloe@club-mail.ch")
    page = as_admin.get("/admin/users/").get_data(as_text=True)
    assert "The invitation to chloe@club-mail.ch could not be sent" in page
    assert "smtp://127.0.0.1:1" in page
    assert "hunter2" not in page
    assert db.session.query(User).filter_by(email="chloe@club-mail.ch").count() == 1


def test_an_administrator_invites_an_existing_account_again(as_admin, org, mailbox):
    response = post_form(
        as_admin,
        "/admin/users/action/",
        {"action": "invite", "rowid": [str(org.leader.id)]},
        page="/admin/users/",
    )
    assert response.status_code == 302
    assert [mail["To"] for mail in mailbox.mails] == [org.leader.email]


def test_a_forgotten_password_is_reset_by_mail(org, mailbox, stranger):
    response = post_form(
        stranger, "/admin/account/forgot-password", {"email": "Nora.Leader@club-mail.ch"}
    )
    assert SAME_ANSWER in stranger.get(response.location).get_data(as_text=True)
    (mail,) = mailbox.received()
    assert mail["Subject"] == "Choose a new mcbridge password"
    assert choose_password(stranger, link_in(mail)).status_code == 302
    sign_in(stranger, org.leader.email, NEW_PASSWORD)


def test_a_forged_host_cannot_steer_the_reset_link(app, org, mailbox, stranger):
    app.config["MCBRIDGE_PUBLIC_URL"] = "https://mcbridge.club-mail.ch"
    forged = {"Host": "attacker.example"}
    page = stranger.get("/admin/account/forgot-password", headers=forged)
    token = TOKEN.search(page.get_data(as_text=True)).group(1)
    stranger.post(
        "/admin/account/forgot-password",
        data={"email": org.leader.email, "csrf_token": token},
        headers=forged,
    )
    (mail,) = mailbox.received()
    assert link_in(mail).startswith("https://mcbridge.club-mail.ch/admin/account/")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(org, mailbox, stranger):
    response = post_form(
        stranger, "/admin/account/forgot-password", {"email": "nobody@club-mail.ch"}
    )
    assert SAME_ANSWER in stranger.get(response.location).get_data(as_text=True)
    assert mailbox.mails == []


def test_reset_requests_are_throttled_like_sign_ins(org, mailbox, stranger):
    answers = [
        post_form(stranger, "/admin/account/forgot-password", {"email": "nobody@club-mail.ch"})
        for _ in range(11)
    ]
    assert [answer.status_code for answer in answers] == [302] * 10 + [429]
    assert "Too many" in answers[-1].get_data(as_text=True)
    sign_in(stranger, org.leader.email)


def test_the_sign_in_page_offers_a_reset(stranger, org):
    page = stranger.get("/admin/account/sign-in").get_data(as_text=True)
    assert "Forgot password?" in page
    assert "/admin/account/forgot-password" in page
