"""The addresses a list's exports will not send, with why and since when; a leader may
clear a refusal Mailchimp may since accept."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, url_for
from flask_admin import expose
from flask_babel import gettext
from sqlalchemy import func, select

from mcbridge.admin.base import (
    ReachedFromListsMixin,
    SignedInView,
    int_or_404,
    page_number,
    pages_of,
)
from mcbridge.admin.subscribers import load_list_in_scope
from mcbridge.auth import current_account_id, current_actor_label
from mcbridge.clock import now
from mcbridge.explain import REFUSAL_CLEARED, suppressed, when_of
from mcbridge.extensions import db
from mcbridge.models import MailchimpEvent, RefusedAddress

PAGE_SIZE = 100


class SuppressedView(ReachedFromListsMixin, SignedInView):
    """Per list, every address mcbridge will not send, a page at a time (a list may have
    a hundred thousand)."""

    @expose("/<list_id>/")
    def addresses(self, list_id: str) -> str:
        mailing_list = load_list_in_scope(list_id)
        statement = suppressed(mailing_list.id)
        total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        page = page_number()
        rows = db.session.execute(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
        return self.render(
            "mcbridge/admin/suppressed.html",
            mailing_list=mailing_list,
            rows=rows.all(),
            total=total,
            page=page,
            pages=pages_of(total, PAGE_SIZE),
            when_of=when_of,
        )

    @expose("/<list_id>/refused/<refused_id>/clear", methods=("POST",))
    def clear(self, list_id: str, refused_id: str) -> Response:
        """Forget one refusal: the next export adds the address as a new contact (never
        re-subscribing anyone), and Mailchimp decides again. Recorded with who and when."""
        mailing_list = load_list_in_scope(list_id)
        refusal = db.session.scalar(
            select(RefusedAddress).where(
                RefusedAddress.id == int_or_404(refused_id),
                RefusedAddress.mailing_list_id == mailing_list.id,
            )
        )
        if refusal is None:
            abort(404)
        db.session.add(cleared_event(refusal))
        db.session.delete(refusal)
        db.session.commit()
        flash(
            gettext("%(email)s will be tried again at the next export.", email=refusal.email),
            "success",
        )
        return redirect(url_for(".addresses", list_id=mailing_list.id))


def cleared_event(refusal: RefusedAddress) -> MailchimpEvent:
    """The record of a cleared refusal, beside what Mailchimp told of the address: the
    "Why (not)?" page shows who cleared it, when, and what Mailchimp had said."""
    moment = now()
    return MailchimpEvent(
        mailing_list_id=refusal.mailing_list_id,
        kind=REFUSAL_CLEARED,
        email=refusal.email,
        fired_at=moment.isoformat(sep=" ", timespec="microseconds"),
        source="mcbridge",
        details={
            "by": current_actor_label(),
            "account_id": current_account_id(),
            "reason": refusal.reason,
            "message": refusal.message,
            "refused_at": refusal.refused_at.isoformat(sep=" "),
        },
        received_at=moment,
        review=None,
    )
