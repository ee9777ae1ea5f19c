"""The diff: recipients against the audience, as a pure function with no HTTP in it.

Both inputs arrive sorted by address, so the diff is one merge-join pass in constant memory
whatever the size of the list, and it can be tested with plain lists.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    """What happens to one address. Only the first four write to Mailchimp."""

    ADD = "added"
    RESUBSCRIBE = "resubscribed"
    UPDATE = "updated"
    ARCHIVE = "archived"
    UNTAG = "untagged"
    KEEP_UNSUBSCRIBED = "kept_unsubscribed"
    BOUNCED = "bounced"
    PENDING = "pending"
    REFUSED = "refused"
    UNCHANGED = "unchanged_members"


WRITES = frozenset({Action.ADD, Action.RESUBSCRIBE, Action.UPDATE, Action.ARCHIVE, Action.UNTAG})


@dataclass(frozen=True, slots=True)
class Wanted:
    """A recipient as the audience should have them."""

    email: str
    fields: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Known:
    """A member as the audience has them (mcbridge's mirror of it)."""

    email: str
    status: str
    fields: str
    managed: bool
    shared: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    email: str
    wanted: Wanted | None
    known: Known | None


def decide(wanted: Wanted | None, known: Known | None, refused: bool) -> Action | None:
    """The rules of an export for one address; None means "not mcbridge's business"."""
    if wanted is None:
        return leaving(known) if known is not None else None
    if refused:
        return Action.REFUSED
    if known is None or known.status == "transactional":
        return Action.ADD
    match known.status:
        case "archived":
            return Action.RESUBSCRIBE
        case "unsubscribed":
            return Action.KEEP_UNSUBSCRIBED
        case "cleaned":
            return Action.BOUNCED
        case "pending":
            return Action.PENDING
    if joins_other_lists(known):
        return Action.UPDATE
    return Action.UNCHANGED if known.fields == wanted.fields else Action.UPDATE


def joins_other_lists(known: Known | None) -> bool:
    """A subscribed recipient that another mcbridge list added: this list tags it too, so
    that whichever list drops it later knows the other still needs it. (A contact no
    mcbridge list added stays untagged: it belongs to whoever signed it up.)"""
    return known is not None and known.shared and not known.managed


def leaving(known: Known) -> Action | None:
    """A member who is no longer a recipient: archived only if mcbridge added them, they are
    still subscribed, and no other mcbridge list holds them (then only our tag goes)."""
    if not known.managed or known.status != "subscribed":
        return None
    return Action.UNTAG if known.shared else Action.ARCHIVE


class UnsortedInputError(RuntimeError):
    """A stream was not in address order: the diff would be wrong, so the run stops."""


def ascending(stream: Iterable[Wanted] | Iterable[Known]) -> Iterator[Wanted | Known]:
    """The stream, checked to be strictly sorted by address as the merge-join assumes.

    A database collation that sorts differently from Python would otherwise make the diff
    add members who exist and archive recipients: a mistake must stop the run instead.
    """
    previous = ""
    for item in stream:
        if item.email <= previous:
            raise UnsortedInputError(f"{item.email!r} after {previous!r}")
        previous = item.email
        yield item


def plan(
    wanted: Iterable[Wanted], known: Iterable[Known], refused: Container[str]
) -> Iterator[Step]:
    """Merge-join two address-sorted streams into the steps of an export."""
    wanted_iter, known_iter = ascending(wanted), ascending(known)
    want = next(wanted_iter, None)
    have = next(known_iter, None)
    while want is not None or have is not None:
        if have is None or (want is not None and want.email < have.email):
            pair, want = (want, None), next(wanted_iter, None)
        elif want is None or have.email < want.email:
            pair, have = (None, have), next(known_iter, None)
        else:
            pair = (want, have)
            want, have = next(wanted_iter, None), next(known_iter, None)
        email = (pair[0] or pair[1]).email  # type: ignore[union-attr]
        action = decide(pair[0], pair[1], email in refused)
        if action is not None:
            yield Step(action, email, pair[0], pair[1])
