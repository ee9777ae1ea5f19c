"""Failure notices: the list's leaders hear by e-mail when an export needs a person.

An export held by the brake, one that failed for a reason that will not heal by itself
(the key, the audience, the consent) and one that ended partial because Mailchimp refused
addresses each mail the list's leaders once, in their own language, with what to fix and a
link to the run. The reason is stored on the list: the same reason is not mailed again
(a daily export of a held list holds every day), a new one is, and an export that worked
clears it, so the next failure is told again. A failure that heals by itself (Mailchimp
away for a while) or an unexpected error (logged for the administrators) mails no one.

"Leaders of the list" are the accounts whose person holds an active managing role in the
list's group or a group above it: the people who may see the run and confirm it. When
no leader has an account, the administrators are told instead, so that someone is.
Mail goes through MAIL_URL, as invitations do; without it, nothing is sent or stored.
"""

from __future__ import annotations

import logging

from flask import current_app, url_for
from flask_babel import lazy_gettext
from sqlalchemy import Select, select, true

from mcbridge.clock import today
from mcbridge.extensions import db
from mcbridge.mail import MailNotSentError, mail_enabled, render_mail, send_mail
from mcbridge.messages import loads
from mcbridge.models import MailingList, Role, RoleType, SyncRun, User, role_is_active
from mcbridge.sync.result import PERSISTENT_FAILURES, SyncResult

logger = logging.getLogger(__name__)

HELD = lazy_gettext(
    "The brake stopped the export before it changed anything in Mailchimp. Check what it "
    "would do on the run's page, then confirm it there if it is right."
)
WHAT_TO_FIX = {
    "brake-archive": HELD,
    "brake-change": HELD,
    "key": lazy_gettext(
        "Mailchimp refused the list's API key. Link the list again with a valid key."
    ),
    "audience": lazy_gettext(
        "The list's Mailchimp audience was not found. Link the list to an existing audience."
    ),
    "consent": lazy_gettext(
        "No data-privacy consent was given for the list. Give it on the list's Mailchimp page."
    ),
    "refused": lazy_gettext(
        "Mailchimp refused some addresses. Correct them in the people's records: the run's "
        "page lists them."
    ),
}
SUBJECTS = {
    "brake-archive": lazy_gettext("The export of %(list)s waits for your confirmation"),
    "brake-change": lazy_gettext("The export of %(list)s waits for your confirmation"),
    "refused": lazy_gettext("Mailchimp refused addresses of %(list)s"),
}
FAILED = lazy_gettext("The export of %(list)s failed")


def reason_of(result: SyncResult) -> str | None:
    """What a person must fix after this export, as a stable word; None when nothing."""
    if result.hold_reason is not None:
        return result.hold_reason
    if result.failure is not None:
        return result.failure_kind if result.failure_kind in PERSISTENT_FAILURES else None
    if result.state == "partial" and result.refusals:
        return "refused"
    return None


def notify_leaders(run: SyncRun, result: SyncResult) -> None:
    """Mail the leaders once per reason; the caller commits the reason stored."""
    if run.dry_run:
        return
    mailing_list = run.mailing_list
    reason = reason_of(result)
    if reason is None:
        if result.failure is None:
            mailing_list.notified_reason = None
        return
    if reason == mailing_list.notified_reason or not mail_enabled():
        return
    sent = [send_notice(user, run, reason) for user in recipients_of_notice(mailing_list)]
    if any(sent):
        mailing_list.notified_reason = reason


def leaders_of(mailing_list: MailingList) -> Select[tuple[User]]:
    """Active accounts leading the list's group or a group above it."""
    groups = [group.id for group in [*mailing_list.group.ancestors(), mailing_list.group]]
    return (
        select(User)
        .join(Role, Role.person_id == User.person_id)
        .join(RoleType, RoleType.id == Role.role_type_id)
        .where(
            User.active.is_(true()),
            Role.group_id.in_(groups),
            RoleType.manages.is_(true()),
            role_is_active(today()),
        )
        .distinct()
        .order_by(User.id)
    )


def recipients_of_notice(mailing_list: MailingList) -> list[User]:
    leaders = list(db.session.scalars(leaders_of(mailing_list)))
    if leaders:
        return leaders
    admins = select(User).where(User.active.is_(true()), User.is_admin.is_(true()))
    return list(db.session.scalars(admins.order_by(User.id)))


def send_notice(user: User, run: SyncRun, reason: str) -> bool:
    """One notice in the user's language; False (logged, never raised) when it did not go:
    the export's outcome is recorded whatever the mail server does."""
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    subject, text, html = render_mail(
        "mcbridge/mail/export_notice",
        locale,
        subject=SUBJECTS.get(reason, FAILED),
        list_name=run.mailing_list.name,
        what_to_fix=WHAT_TO_FIX[reason],
        details=loads(run.message),
        link=run_address(run),
    )
    try:
        send_mail(user.email, subject, text, html)
    except MailNotSentError:
        logger.warning("export notice for run %s not sent to a leader", run.id)
        return False
    return True


def run_address(run: SyncRun) -> str:
    """The run's page on MCBRIDGE_PUBLIC_URL: a worker has no request to take a host from."""
    public_url = current_app.config.get("MCBRIDGE_PUBLIC_URL") or "http://localhost"
    with current_app.test_request_context(base_url=public_url):
        return url_for("mcbridge_exports.run", run_id=run.id, _external=True)
