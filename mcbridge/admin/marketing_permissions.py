"""A GDPR audience's marketing permissions on the list's Mailchimp tab: which of them are
on for every contact the list adds.

The choice is stored with the permissions' ids and texts as Mailchimp showed them when
the tab was last saved, so the page needs no Mailchimp call to show them; each save reads
them again (Mailchimp shows them only on contacts) and drops the ones the audience no
longer has. Contacts already in the audience keep theirs: the choice concerns only
contacts the list adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request

from mcbridge.mailchimp.audience import AudienceInfo, MarketingPermission, marketing_permissions
from mcbridge.mailchimp.client import Client
from mcbridge.models import MailingList

FIELD = "marketing_permission"


@dataclass(frozen=True)
class PermissionsSection:
    """What the tab shows: nothing (`gdpr` false: not a GDPR audience, or not checked
    since it was linked), the permissions to tick, or (none known) why there are none."""

    gdpr: bool
    rows: list[dict[str, Any]]
    """As stored: {"id", "text", "enabled"}."""

    @property
    def none_enabled(self) -> bool:
        return not any(row["enabled"] for row in self.rows)


def read_permissions(client: Client, audience: AudienceInfo) -> list[MarketingPermission] | None:
    """The audience's permissions, or None when it is not GDPR-enabled (no read then)."""
    if not audience.marketing_permissions:
        return None
    return marketing_permissions(client, audience.id)


def ticked() -> set[str]:
    """The permission ids the form sent ticked."""
    return set(request.form.getlist(FIELD))


def section(mailing_list: MailingList) -> PermissionsSection:
    """As stored; on a page sent back with errors, with the ticks the leader sent."""
    stored = mailing_list.marketing_permissions
    if stored is None:
        return PermissionsSection(gdpr=False, rows=[])
    on = ticked() if request.method == "POST" else None
    rows = [
        {**item, "enabled": bool(item.get("enabled")) if on is None else item["id"] in on}
        for item in stored
    ]
    return PermissionsSection(gdpr=True, rows=rows)


def choose(
    mailing_list: MailingList, found: list[MarketingPermission] | None, *, moved: bool
) -> list[str]:
    """Store the ticked permissions among those the audience has (`found`, None: not a
    GDPR audience); returns the texts of ticked ones it no longer has, dropped (after a
    move to another audience the ticks were the other audience's: nothing to say)."""
    on = ticked()
    before = [] if moved else mailing_list.marketing_permissions or []
    if found is None:
        mailing_list.marketing_permissions = None
        return []
    mailing_list.marketing_permissions = [
        {"id": permission.id, "text": permission.text, "enabled": permission.id in on}
        for permission in found
    ]
    present = {permission.id for permission in found}
    return [str(item["text"]) for item in before if item["id"] in on and item["id"] not in present]
