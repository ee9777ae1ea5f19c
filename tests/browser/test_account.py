"""Invitations and password resets as people live them, in each language: the mail caught
by a real SMTP server, its link opened in the browser, a password chosen, signed in."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.browser.helpers import check, follow, sign_in, t, ta, visit
from tests.mail_catcher import MailCatcher, link_in

CHOSEN = "my own long password"
ON_ITS_WAY = (
    "If an account uses this address, a link to choose a new password is on its way. "
    "Check your mailbox."
)


def sign_out(page: Page, language: str, email: str) -> None:
    page.get_by_role("button", name=email).click()
    follow(page, page.get_by_role("button", name=t(language, "Sign out")))


def choose_password(page: Page, language: str, mailbox: MailCatcher) -> None:
    """Open the last mail's link and choose a password, as its recipient does."""
    visit(page, urlsplit(link_in(mailbox.received()[-1])).path)
    page.get_by_label(t(language, "New password"), exact=True).fill(CHOSEN)
    page.get_by_label(t(language, "The new password again")).fill(CHOSEN)
    follow(page, page.get_by_role("button", name=t(language, "Save my password")))
    expect(
        page.get_by_text(t(language, "Your password is set. You can sign in with it now."))
    ).to_be_visible()


def test_an_administrator_invites_a_newcomer_who_chooses_a_password(page, club, language, mailbox):
    sign_in(page, language, club.admin.email)
    visit(page, "/admin/users/new/")
    expect(
        page.get_by_text(
            t(
                language,
                "Leave empty to send an invitation by mail: the person chooses their own password.",
            )
        )
    ).to_be_visible()
    page.get_by_label(t(language, "Email")).fill("newcomer@club-mail.ch")
    follow(page, page.get_by_role("button", name=ta(language, "Save"), exact=True))
    expect(
        page.get_by_text(
            t(language, "An invitation was sent to %(email)s.", email="newcomer@club-mail.ch")
        )
    ).to_be_visible()
    sign_out(page, language, club.admin.email)

    choose_password(page, language, mailbox)
    expect(page.get_by_label(t(language, "Email"))).to_have_value("newcomer@club-mail.ch")
    sign_in(page, language, "newcomer@club-mail.ch", CHOSEN)

    link = urlsplit(link_in(mailbox.mails[-1])).path
    response = page.goto(link)
    assert response is not None
    assert response.status == 404
    check(page)
    expect(
        page.get_by_text(
            t(language, "This link was already used or is no longer valid. Ask for a new one.")
        )
    ).to_be_visible()


def test_a_leader_who_forgot_the_password_resets_it_by_mail(page, club, language, mailbox):
    visit(page, "/admin/account/sign-in")
    follow(page, page.get_by_role("link", name=t(language, "Forgot password?")))
    page.get_by_label(t(language, "Email")).fill(club.leader.email)
    follow(page, page.get_by_role("button", name=t(language, "Send me a link")))
    expect(page.get_by_text(t(language, ON_ITS_WAY))).to_be_visible()

    choose_password(page, language, mailbox)
    sign_in(page, language, club.leader.email, CHOSEN)
