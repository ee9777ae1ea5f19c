"""The diff as a pure function: no database, no HTTP."""

from __future__ import annotations

import pytest

from mcbridge.sync.plan import Action, Exceptions, Known, UnsortedInputError, Wanted, plan

F = '{"FNAME":"Anna"}'


def steps(wanted, known, **exceptions):
    sets = {name: set(values) for name, values in exceptions.items()}
    return [(step.action, step.email) for step in plan(wanted, known, Exceptions(**sets))]


@pytest.mark.parametrize(
    ("status", "managed", "shared", "fields", "expected"),
    [
        (None, False, False, F, Action.ADD),
        ("transactional", False, False, F, Action.KEEP_UNSUBSCRIBED),
        ("archived", True, False, F, Action.ARCHIVED_ELSEWHERE),
        ("unsubscribed", True, False, "{}", Action.KEEP_UNSUBSCRIBED),
        ("cleaned", True, False, "{}", Action.BOUNCED),
        ("pending", False, False, F, Action.PENDING),
        ("subscribed", True, False, F, Action.UNCHANGED),
        ("subscribed", False, False, F, Action.UNCHANGED),
        ("subscribed", True, False, "{}", Action.UPDATE),
        ("subscribed", False, True, F, Action.UPDATE),
    ],
)
def test_a_recipient(status, managed, shared, fields, expected):
    known = [] if status is None else [Known("a@x.ch", status, fields, managed, shared)]
    assert steps([Wanted("a@x.ch", F)], known) == [(expected, "a@x.ch")]


@pytest.mark.parametrize(
    ("status", "managed", "shared", "expected"),
    [
        ("subscribed", True, False, [(Action.ARCHIVE, "a@x.ch")]),
        ("subscribed", True, True, [(Action.UNTAG, "a@x.ch")]),
        ("subscribed", False, False, []),
        ("unsubscribed", True, False, []),
        ("cleaned", True, False, []),
        ("archived", True, False, []),
    ],
)
def test_a_member_who_is_no_longer_a_recipient(status, managed, shared, expected):
    assert steps([], [Known("a@x.ch", status, F, managed, shared)]) == expected


def test_only_what_mcbridge_archived_itself_or_a_leader_asked_for_comes_back():
    ours = Known("a@x.ch", "archived", F, True, archived_by_us=True)
    theirs = Known("a@x.ch", "archived", F, True)
    assert steps([Wanted("a@x.ch", F)], [ours]) == [(Action.RESUBSCRIBE, "a@x.ch")]
    assert steps([Wanted("a@x.ch", F)], [theirs]) == [(Action.ARCHIVED_ELSEWHERE, "a@x.ch")]
    asked = steps([Wanted("a@x.ch", F)], [theirs], bring_back={"a@x.ch"})
    assert asked == [(Action.RESUBSCRIBE, "a@x.ch")]


@pytest.mark.parametrize("wanted", [[Wanted("a@x.ch", "{}")], []])
def test_a_held_address_is_left_entirely_alone(wanted):
    known = [Known("a@x.ch", "subscribed", F, True)]
    held = steps(wanted, known, held={"a@x.ch"})
    assert held == [(Action.HELD, "a@x.ch")]


def test_refused_addresses_are_skipped():
    assert steps([Wanted("a@x.ch", F)], [], refused={"a@x.ch"}) == [(Action.REFUSED, "a@x.ch")]


def test_interleaved_streams_are_joined_by_address():
    wanted = [Wanted(e, F) for e in ("a@x.ch", "c@x.ch", "e@x.ch")]
    known = [Known(e, "subscribed", F, True) for e in ("b@x.ch", "c@x.ch", "d@x.ch")]
    assert steps(wanted, known) == [
        (Action.ADD, "a@x.ch"),
        (Action.ARCHIVE, "b@x.ch"),
        (Action.UNCHANGED, "c@x.ch"),
        (Action.ARCHIVE, "d@x.ch"),
        (Action.ADD, "e@x.ch"),
    ]


def test_an_unsorted_stream_stops_the_diff():
    wanted = [Wanted("b@x.ch", F), Wanted("a@x.ch", F)]
    with pytest.raises(UnsortedInputError):
        steps(wanted, [])
