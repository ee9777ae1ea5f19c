"""The diff as a pure function: no database, no HTTP."""

from __future__ import annotations

import pytest

from mcbridge.sync.plan import Action, Known, UnsortedInputError, Wanted, plan

F = '{"FNAME":"Anna"}'


def steps(wanted, known, refused=()):
    return [(step.action, step.email) for step in plan(wanted, known, set(refused))]


@pytest.mark.parametrize(
    ("status", "managed", "shared", "fields", "expected"),
    [
        (None, False, False, F, Action.ADD),
        ("transactional", False, False, F, Action.ADD),
        ("archived", True, False, F, Action.RESUBSCRIBE),
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
