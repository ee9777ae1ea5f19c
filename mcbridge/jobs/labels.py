"""How runs are named on pages: states, counters and phases, in the user's language."""

from __future__ import annotations

from flask_babel import gettext
from markupsafe import Markup

STATE_STYLES = {
    "queued": "secondary",
    "running": "info",
    "unchanged": "light",
    "success": "success",
    "partial": "warning",
    "failed": "danger",
    "held": "warning",
}


def state_label(state: str | None, *, preview: bool = False) -> str:
    """A preview wrote nothing: whatever it found, it is named a preview, never "exported"."""
    if preview and state in ("unchanged", "success", "partial"):
        return gettext("preview")
    labels = {
        "queued": gettext("queued"),
        "running": gettext("running"),
        "unchanged": gettext("unchanged"),
        "success": gettext("exported"),
        "partial": gettext("partly exported"),
        "failed": gettext("failed"),
        "held": gettext("held by the brake"),
    }
    return labels.get(state or "", gettext("never exported"))


def state_badge(state: str | None, *, preview: bool = False) -> Markup:
    style = "light" if preview else STATE_STYLES.get(state or "", "light")
    label = state_label(state, preview=preview)
    return Markup('<span class="badge badge-%s">%s</span>') % (style, label)


def counter_labels() -> dict[str, str]:
    return {
        "added": gettext("added"),
        "resubscribed": gettext("brought back"),
        "updated": gettext("updated"),
        "adopted": gettext("adopted"),
        "archived": gettext("archived"),
        "untagged": gettext("left to another list"),
        "kept_unsubscribed": gettext("kept unsubscribed"),
        "archived_elsewhere": gettext("archived in Mailchimp, not by mcbridge"),
        "already_in_audience": gettext("already in the audience, left alone"),
        "bounced": gettext("bounced"),
        "pending": gettext("awaiting confirmation"),
        "skipped_no_email": gettext("without email"),
        "refused": gettext("refused"),
        "errors": gettext("not written"),
        "unchanged_members": gettext("already up to date"),
    }


def preview_counter_labels() -> dict[str, str]:
    """What a preview found, in the conditional: it changed nothing."""
    return {
        **counter_labels(),
        "added": gettext("would be added"),
        "resubscribed": gettext("would be brought back"),
        "updated": gettext("would be updated"),
        "adopted": gettext("would be adopted"),
        "archived": gettext("would be archived"),
        "untagged": gettext("would be left to another list"),
    }


def phase_labels() -> dict[str, str]:
    return {
        "queued": gettext("queued"),
        "running": gettext("starting"),
        "waiting": gettext("waiting for another export to the same audience"),
        "checking": gettext("checking the key and the audience"),
        "reading": gettext("reading the audience"),
        "comparing": gettext("comparing"),
        "writing": gettext("writing to Mailchimp"),
        "done": gettext("done"),
    }
