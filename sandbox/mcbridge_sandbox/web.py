"""The read-only page: accounts (keys masked) with their audiences, the consent ledger,
and each audience's members with a status filter, a search box and pages. For people
watching a demo or debugging a sync; it never changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, abort, render_template, request
from flask_babel import Babel, format_datetime, get_locale, lazy_gettext

from mcbridge_sandbox.clock import parse_iso
from mcbridge_sandbox.keys import mask_key
from mcbridge_sandbox.models import STATUSES, Account, Audience
from mcbridge_sandbox.runtime import SandboxRuntime
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


def init_babel(app: Flask) -> None:
    """English when the browser asks for nothing we have, or a catalog is missing."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=lambda: request.accept_languages.best_match(LANGUAGES) or "en")


def web_blueprint(runtime: SandboxRuntime) -> Blueprint:
    bp = Blueprint("sandbox_web", __name__)
    store = runtime.store
    bp.app_context_processor(lambda: {"get_locale": get_locale})

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
        found = store.audiences.get(audience_id)
        if found is None:
            abort(404)
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
        tags = store.segments.tags_of(m.id for m in page.members)
        return render_template(
            "audience.html",
            audience=found,
            members=page.members,
            tags=tags,
            total=page.total,
            page=page_number,
            pages=max((page.total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            status=status,
            query=query,
            statuses=STATUS_LABELS,
            counts=store.members.status_counts(found.pk),
            when=_when,
        )

    return bp


def _account_summary(store: Store, account: Account) -> AccountSummary:
    audiences = [
        AudienceSummary(a, store.members.status_counts(a.pk))
        for a in store.audiences.of_account(account.id)
    ]
    return AccountSummary(mask_key(account.api_key), account.dc, audiences)


def _when(timestamp: str) -> str:
    return format_datetime(parse_iso(timestamp), "medium") if timestamp else ""
