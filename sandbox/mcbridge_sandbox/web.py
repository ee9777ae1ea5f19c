"""The sandbox's page: accounts (keys masked) with their audiences, the consent ledger,
and each audience's members with a status filter, a search box and pages. For people
watching a demo or debugging a sync.

Each member has buttons for what people and Mailchimp do outside the API (an unsubscribe
link, a bounce, an admin's archive, a new address…), so a newcomer can try how mcbridge
takes them without scripting /_sandbox/. The page has no sign-in (the sandbox is a
loopback tool), so its forms carry a token another site cannot read.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_babel import Babel, format_datetime, get_locale, gettext, lazy_gettext
from werkzeug.wrappers import Response

from mcbridge_sandbox import problems
from mcbridge_sandbox.clock import parse_iso
from mcbridge_sandbox.keys import mask_key
from mcbridge_sandbox.models import STATUSES, Account, Audience
from mcbridge_sandbox.runtime import SandboxRuntime
from mcbridge_sandbox.simulate import simulation
from mcbridge_sandbox.store import Store

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = ("en", "fr", "de")
PAGE_SIZE = 50
STATUS_LABELS = {
    "subscribed": lazy_gettext("Subscribed"),
    "unsubscribed": lazy_gettext("Unsubscribed"),
    "cleaned": lazy_gettext("Cleaned"),
    "pending": lazy_gettext("Pending"),
    "transactional": lazy_gettext("Transactional"),
    "archived": lazy_gettext("Archived"),
}
# The buttons needing nothing but the contact, by the action their form posts.
ONE_CLICK = {
    "unsubscribe": lazy_gettext("Unsubscribe (as the contact, by the email's link)"),
    "spam-report": lazy_gettext("Report as spam (as the contact)"),
    "bounce": lazy_gettext("Bounce (Mailchimp cleans the address)"),
    "admin-unsubscribe": lazy_gettext("Unsubscribe (as an admin in Mailchimp)"),
    "admin-archive": lazy_gettext("Archive (as an admin in Mailchimp)"),
    "signup": lazy_gettext("Sign up again (as the contact, by a form)"),
}
ACTIONS = {
    **ONE_CLICK,
    "email-change": lazy_gettext("Change the address"),
    "profile-update": lazy_gettext("Change the profile"),
}


@dataclass(frozen=True)
class AudienceSummary:
    audience: Audience
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class AccountSummary:
    masked_key: str
    dc: str
    audiences: list[AudienceSummary]


@dataclass(frozen=True)
class Refusal:
    """A simulation the sandbox refused: said on the page, the contact's forms open with
    what was typed still in them."""

    email: str
    message: str
    form: Mapping[str, str]


def init_babel(app: Flask) -> None:
    """English when the browser asks for nothing we have, or a catalog is missing."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=lambda: request.accept_languages.best_match(LANGUAGES) or "en")


def web_blueprint(runtime: SandboxRuntime) -> Blueprint:
    bp = Blueprint("sandbox_web", __name__)
    store = runtime.store
    # One per server start: a page from before a restart must be reloaded.
    form_token = secrets.token_urlsafe(32)
    bp.app_context_processor(lambda: {"get_locale": get_locale, "form_token": form_token})

    @bp.get("/")
    def index() -> str:
        accounts = [_account_summary(store, a) for a in store.accounts.all()]
        return render_template(
            "index.html",
            accounts=accounts,
            resubscriptions=store.consent_ledger.find(),
            when=_when,
        )

    @bp.get("/audiences/<audience_id>")
    def audience(audience_id: str) -> str:
        return _audience_page(store, _audience_or_404(store, audience_id))

    @bp.post("/audiences/<audience_id>/simulate/<action>")
    def simulate(audience_id: str, action: str) -> Response | tuple[str, int]:
        found = _audience_or_404(store, audience_id)
        if action not in ACTIONS:
            abort(404)
        form = request.form
        email = form.get("email", "")
        if not hmac.compare_digest(form.get("form_token", ""), form_token):
            message = gettext("This page is out of date (the sandbox restarted): reload it.")
            return _audience_page(store, found, Refusal(email, message, form)), 400
        name, body = _simulation_body(action, form)
        try:
            simulation(name)(runtime, found, body)
        except problems.ApiError as problem:
            refusal = Refusal(email, _refusal_message(email, problem), form)
            return _audience_page(store, found, refusal), 400
        back = {key: request.args[key] for key in ("status", "q", "page") if request.args.get(key)}
        done = url_for(".audience", audience_id=audience_id, done=action, contact=email, **back)
        return redirect(done, 303)

    return bp


def _audience_page(store: Store, found: Audience, refusal: Refusal | None = None) -> str:
    status = request.args.get("status") or None
    if status not in (None, *STATUSES):
        status = None
    query = (request.args.get("q") or "").strip()
    page_number = max(request.args.get("page", 1, type=int) or 1, 1)
    offset = (page_number - 1) * PAGE_SIZE
    if query:
        page = store.members.search(found.pk, query, status, offset, PAGE_SIZE)
    else:
        page = store.members.page(found.pk, status=status, offset=offset, count=PAGE_SIZE)
    return render_template(
        "audience.html",
        audience=found,
        members=page.members,
        tags=store.segments.tags_of(m.id for m in page.members),
        total=page.total,
        page=page_number,
        pages=max((page.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        status=status,
        query=query,
        statuses=STATUS_LABELS,
        counts=store.members.status_counts(found.pk),
        when=_when,
        one_click=ONE_CLICK,
        actions=ACTIONS,
        done=_done_message(),
        refusal=refusal,
        profile_fields=[f for f in store.merge_fields.of_audience(found.pk) if f.type != "address"],
    )


def _simulation_body(action: str, form: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The simulation a button asks for, and its body as /_sandbox/ takes it."""
    email = form.get("email", "")
    if action == "spam-report":
        return "unsubscribe", {"email": email, "abuse": True}
    if action == "email-change":
        return action, {"old_email": email, "new_email": form.get("new_email", "").strip()}
    if action == "profile-update":
        fields = {form.get("tag", ""): form.get("value", "").strip()}
        return action, {"email": email, "merge_fields": fields}
    return action, {"email": email}


def _refusal_message(email: str, problem: problems.ApiError) -> str:
    """Mailchimp's own words (English, as its API answers), named as a refusal."""
    details = " ".join([problem.detail, *(error.message for error in problem.errors)])
    return gettext("Refused for %(email)s: %(problem)s", email=email, problem=details)


def _done_message() -> str:
    action = request.args.get("done", "")
    if action not in ACTIONS:
        return ""
    label = ACTIONS[action]
    return gettext(
        "Done for %(email)s: %(action)s.", email=request.args.get("contact"), action=label
    )


def _audience_or_404(store: Store, audience_id: str) -> Audience:
    found = store.audiences.get(audience_id)
    if found is None:
        abort(404)
    return found


def _account_summary(store: Store, account: Account) -> AccountSummary:
    audiences = [
        AudienceSummary(a, store.members.status_counts(a.pk))
        for a in store.audiences.of_account(account.id)
    ]
    return AccountSummary(mask_key(account.api_key), account.dc, audiences)


def _when(timestamp: str) -> str:
    """In the page's language with the zone named (CLDR's long format, "… 07:05:00 UTC"):
    the sandbox keeps UTC, and a time without its zone reads as local, hours off."""
    return format_datetime(parse_iso(timestamp), "long") if timestamp else ""
