"""The probes: one small function per point the notes (mailchimp-api.md) mark
[UNVERIFIED]. Each runs on one side and returns what it saw as a short sentence, worded
only from behaviour (no ids, times or sizes), so that equal behaviour reads equal.

Every probe works on contacts, tags and merge fields it creates itself; none subscribes
an address it did not make, and none erases anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from conformance.side import ProbeError, Side, describe

# Mailchimp's timestamps have second precision: a change must wait past the next second to
# be told apart from the one before it.
CLOCK_PAUSE_SECONDS = 1.2
MAX_COUNT = 1000
# How a row says that a probe could not finish on a side.
UNFINISHED = "could not finish"

Probe = Callable[[Side], str]


def archived_in_default_listing(side: Side) -> str:
    """A sync that reads only the default listing must know whether archived contacts are
    in it, or it will re-add them (and re-subscribe people who had left)."""
    email = side.add_contact("listing")
    total_before = _member_total(side)
    side.archive(email)
    listed = side.collect(f"{side.audience_path}/members", "members", "members.email_address")
    seen = email.lower() in {m["email_address"].lower() for m in listed}
    counted = _member_total(side) == total_before
    return f"{'listed' if seen else 'not listed'}, {'counted' if counted else 'not counted'}"


def _member_total(side: Side) -> int:
    answer = side.call("GET", f"{side.audience_path}/members", params={"fields": "total_items"})
    return int(answer.json()["total_items"])


def tag_moves_last_changed(side: Side) -> str:
    """`since_last_changed` reads miss tag changes if tagging does not move `last_changed`."""
    email = side.add_contact("tag-clock")
    tag = side.new_tag("clock")
    untouched = side.member(email)["last_changed"]
    time.sleep(CLOCK_PAUSE_SECONDS)
    side.set_tag(email, tag, active=True)
    tagged = side.member(email)["last_changed"]
    time.sleep(CLOCK_PAUSE_SECONDS)
    side.set_tag(email, tag, active=False)
    untagged = side.member(email)["last_changed"]
    return f"adding {_moved(untouched, tagged)}, removing {_moved(tagged, untagged)}"


def batch_tags_on_existing(side: Side) -> str:
    """Whether tags can ride along a batch subscribe for existing members, or need the tags
    endpoint. The status sent is the one the contact has, so only the tag can change."""
    email = side.add_contact("batch-tags")
    tag = side.new_tag("batch")
    entry = {"email_address": email, "status": "subscribed", "tags": [tag]}
    answer = side.batch_subscribe([entry], update_existing=True)
    if answer["error_count"]:
        return _batch_outcome(answer)
    names = {t["name"] for t in side.member(email)["tags"]}
    return "applied" if tag in names else "ignored"


def date_formats(side: Side) -> str:
    """The sync compares what it reads back with what it wrote; a date read back in another
    form would look changed on every run. Display formats are set to day-first so that a
    value echoed in the display format shows as such."""
    written_date = _read_back(side, "date", "DD/MM/YYYY", "2001-02-13")
    written_birthday = _read_back(side, "birthday", "DD/MM", "02/13")
    return f"date 2001-02-13 → {written_date}, birthday 02/13 → {written_birthday}"


def _read_back(side: Side, field_type: str, date_format: str, value: str) -> str:
    tag = side.add_merge_field(field_type, {"date_format": date_format})
    try:
        email = side.add_contact(field_type, merge_fields={tag: value})
    except ProbeError as refusal:
        return f"refused ({refusal})"
    return repr(side.member(email)["merge_fields"].get(tag))


def delete_archived(side: Side) -> str:
    """Archiving someone twice (a retry, two runs) must not read as a failure."""
    email = side.add_contact("delete-twice")
    side.archive(email)
    return describe(side.call("DELETE", side.member_path(email), expect=None))


def fields_on_batch_subscribe(side: Side) -> str:
    """`fields` is not among batch subscribe's documented parameters; the exporter asks for
    it to keep 500-member answers small, and must not rely on a projection that never comes."""
    entry = {"email_address": side.new_address("fields"), "status": "subscribed"}
    wanted = {"total_created", "error_count"}
    answer = side.batch_subscribe([entry], update_existing=False, fields=",".join(sorted(wanted)))
    return "projected" if set(answer) <= wanted else "not projected"


def archived_batch_without_update(side: Side) -> str:
    """Whether `update_existing: false` protects an archived contact. The entry says
    `unsubscribed` so that the answer tells the sent status from the one before archiving,
    and nobody gets subscribed."""
    email = side.add_contact("archived-batch")
    side.archive(email)
    entry = {"email_address": email, "status": "unsubscribed"}
    answer = side.batch_subscribe([entry], update_existing=False)
    return f"{_batch_outcome(answer)}; now {side.member(email)['status']}"


def batch_status_if_new(side: Side) -> str:
    """Batch subscribe's schema has no `status_if_new`; a sandbox that accepts it lets a
    fix pass the tests and fail live."""
    email = side.new_address("status-if-new")
    entry = {"email_address": email, "status_if_new": "subscribed"}
    answer = side.batch_subscribe([entry], update_existing=False)
    if answer["total_created"]:
        return f"{_batch_outcome(answer)} as {side.member(email)['status']}"
    return _batch_outcome(answer)


def resubscribe_after_api_unsubscribe(side: Side) -> str:
    """Reportedly Mailchimp lets any write with `status: subscribed` undo an unsubscribe made
    through the API, so only the sync's own policy keeps such people out; a sandbox that
    refuses would hide a sync that tries."""
    email = side.add_contact("resubscribe")
    side.call("PATCH", side.member_path(email), json={"status": "unsubscribed"})
    answer = side.call("PATCH", side.member_path(email), json={"status": "subscribed"}, expect=None)
    if answer.ok:
        return f"accepted; now {answer.json()['status']}"
    return f"refused ({describe(answer)})"


def count_over_limit(side: Side) -> str:
    """A reader that asks for more than 1000 must know whether it gets fewer (and pages on)
    or an error. A cap can only show on an audience of more than 1000 contacts."""
    query = {"count": 1500, "fields": "members.id,total_items"}
    answer = side.call("GET", f"{side.audience_path}/members", params=query, expect=None)
    if not answer.ok:
        return f"refused ({describe(answer)})"
    body = answer.json()
    returned, total = len(body["members"]), body["total_items"]
    if returned > MAX_COUNT:
        return "accepted, not capped"
    return "accepted, capped" if total > MAX_COUNT else "accepted"


def _moved(before: str, after: str) -> str:
    return "moves it" if after != before else "leaves it"


def _batch_outcome(answer: dict[str, Any]) -> str:
    if answer["total_created"]:
        return "created"
    if answer["total_updated"]:
        return "updated"
    errors = answer["errors"]
    return f"refused ({errors[0]['error_code']})" if errors else "ignored"


PROBES: dict[str, Probe] = {
    "archived contact in default listing": archived_in_default_listing,
    "tag change moves last_changed": tag_moves_last_changed,
    "batch subscribe tags on existing member": batch_tags_on_existing,
    "date and birthday read back": date_formats,
    "DELETE of archived contact": delete_archived,
    "fields on batch subscribe": fields_on_batch_subscribe,
    "batch update_existing:false on archived": archived_batch_without_update,
    "batch entry with only status_if_new": batch_status_if_new,
    "resubscribe after API unsubscribe": resubscribe_after_api_unsubscribe,
    "count=1500": count_over_limit,
}


@dataclass(frozen=True)
class Row:
    probe: str
    live: str
    sandbox: str

    @property
    def same(self) -> bool:
        return self.live == self.sandbox


def run_probes(live: Side, sandbox: Side) -> list[Row]:
    return [
        Row(name, observe(probe, live), observe(probe, sandbox)) for name, probe in PROBES.items()
    ]


def observe(probe: Probe, side: Side) -> str:
    """A probe that cannot finish still gives a row: its failure is an observation too, and
    an answer of an unexpected shape (missing key, not JSON) is a finding, not a crash."""
    try:
        return probe(side)
    except ProbeError as failure:
        return f"{UNFINISHED}: {failure}"
    except (KeyError, ValueError) as surprise:
        return f"{UNFINISHED}: unexpected answer ({type(surprise).__name__} {surprise})"
    except requests.RequestException as error:
        return f"{UNFINISHED}: no answer ({type(error).__name__})"
