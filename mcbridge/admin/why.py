""" "Why (not)?": for a person or an address, why a mailing list is, or is not, sent to them."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_admin import expose
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mcbridge.admin.base import ReachedFromListsMixin, SignedInView, int_or_404
from mcbridge.admin.subscribers import load_list_in_scope
from mcbridge.auth import current_scope
from mcbridge.clock import today
from mcbridge.emails import normalize_email
from mcbridge.explain import explain, holders, suppressions_of, when_of
from mcbridge.extensions import db
from mcbridge.models import Person
from mcbridge.rules import describe_filters, describe_rule, field_clause

SHOWN_HOLDERS = 20


class WhyView(ReachedFromListsMixin, SignedInView):
    """One list, and a person (`person=`) or an address (`email=`, which explains each of
    its holders in the user's scope, and the address itself when no one holds it)."""

    @expose("/<list_id>/")
    def explain_page(self, list_id: str) -> str:
        mailing_list = load_list_in_scope(list_id)
        email = normalize_email(request.args.get("email", "")) or ""
        if "person" in request.args:
            people = [person_in_scope(request.args["person"])]
        elif email:
            people = list(db.session.scalars(holders(email).limit(SHOWN_HOLDERS)))
        else:
            people = []
        day = today()
        return self.render(
            "mcbridge/admin/why.html",
            mailing_list=mailing_list,
            email=email,
            explanations=[explain(mailing_list, person, day) for person in people],
            address_suppressions=unheld_suppressions(mailing_list.id, email, people),
            rules={rule.id: describe_rule(rule) for rule in mailing_list.subscriptions},
            list_filters=describe_filters(mailing_list),
            field_clause=field_clause(mailing_list),
            today=day,
            when_of=when_of,
        )


def unheld_suppressions(mailing_list_id: int, email: str, people: list[Person]) -> list[Any]:
    """What keeps an address no one in scope holds from being sent: it may still be in the
    audience (unsubscribed, refused) after its person was removed."""
    if not email or people:
        return []
    return list(db.session.execute(suppressions_of(mailing_list_id, [email])))


def person_in_scope(person_id: str) -> Person:
    """The person, if the user may see them; a 404 otherwise, whether or not they exist."""
    person = db.session.scalar(
        select(Person)
        .where(Person.id == int_or_404(person_id), current_scope().people())
        .options(selectinload(Person.additional_emails))
    )
    if person is None:
        abort(404)
    return person
