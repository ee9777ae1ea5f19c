"""The diff as a pure function: no database, no HTTP."""

from __future__ import annotations

from datetime import date

import pytest

from mcbridge.recipients import Recipient
from mcbridge.sync.apply import added_tags, removed_tags
from mcbridge.sync.fields import LANGUAGE_SPEC, FieldSpec, encode, encoder, wanted_values
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


@pytest.mark.parametrize(
    ("status", "managed", "shared", "fields", "expected"),
    [
        ("subscribed", False, False, F, Action.ADOPT),
        ("subscribed", False, False, "{}", Action.ADOPT),
        ("subscribed", True, False, F, Action.UNCHANGED),
        ("subscribed", False, True, F, Action.UPDATE),
        ("unsubscribed", False, False, F, Action.KEEP_UNSUBSCRIBED),
        ("cleaned", False, False, F, Action.BOUNCED),
        ("pending", False, False, F, Action.PENDING),
        ("archived", False, False, F, Action.ARCHIVED_ELSEWHERE),
    ],
)
def test_adopting_takes_on_only_subscribed_recipients_nobody_tagged(
    status, managed, shared, fields, expected
):
    known = [Known("a@x.ch", status, fields, managed, shared)]
    (step,) = plan([Wanted("a@x.ch", F)], known, Exceptions(adopt=True))
    assert step.action is expected
    assert step.writes_fields == (expected is Action.ADOPT and fields != F)


def test_without_the_decision_nobody_is_adopted_and_non_recipients_never_are():
    known = [Known(e, "subscribed", F, False) for e in ("a@x.ch", "b@x.ch")]
    assert steps([Wanted("a@x.ch", F)], known) == [(Action.UNCHANGED, "a@x.ch")]
    adopting = plan([Wanted("a@x.ch", F)], known, Exceptions(adopt=True))
    assert [(step.action, step.email) for step in adopting] == [(Action.ADOPT, "a@x.ch")]


def test_an_adopted_contact_gets_the_lists_tag_and_its_role_tags():
    known = Known("a@x.ch", "subscribed", F, False, tags=frozenset({"Newsletter"}))
    (step,) = plan([Wanted("a@x.ch", F, frozenset({"Coach"}))], [known], Exceptions(adopt=True))
    assert added_tags(step, "mcbridge: News") == {"mcbridge: News", "Coach"}
    assert removed_tags(step, "mcbridge: News") == set()


@pytest.mark.parametrize(
    ("wanted", "known", "expected"),
    [
        # A person without a language leaves the contact's own, whatever it is.
        (["Anna", "Muster", None], ["Anna", "Muster", "fr"], Action.UNCHANGED),
        (["Anna", "Muster", None], ["Anna", "Muster", ""], Action.UNCHANGED),
        (["Anna", "Muster", None], ["Anna", "Meier", "fr"], Action.UPDATE),
        (["Anna", None, None], ["Anna", "Meier", "de"], Action.UNCHANGED),
        ([None, "Muster", "de"], ["Hanna", "Muster", "de"], Action.UNCHANGED),
        ([None, "Muster", "de"], ["Hanna", "Muster", "fr"], Action.UPDATE),
        (["", None], ["", "de"], Action.UNCHANGED),
        # The audience's copy holds other fields (read before the list's fields changed).
        (["Anna", "Muster", None], ["Anna", "Muster"], Action.UPDATE),
        (["Anna", None], ["Anna", "Muster", "fr"], Action.UPDATE),
        ([None], ["Anna", "fr"], Action.UPDATE),
        (["Anna", "Muster", "de"], ["Anna", "Muster", "de"], Action.UNCHANGED),
    ],
)
def test_a_value_left_out_is_never_a_difference_but_a_field_missing_is(wanted, known, expected):
    sent = Wanted("a@x.ch", encode(wanted))
    found = Known("a@x.ch", "subscribed", encode(known), managed=True)
    assert steps([sent], [found]) == [(expected, "a@x.ch")]


def recipient(**values) -> Recipient:
    person = {"first_name": None, "last_name": None, "nickname": None, "gender": None}
    person |= {"birthday": None, "company": None, "language": None, **values}
    return Recipient(1, "anna@x.ch", True, 1, **person)


TEXT_AND_DROPDOWN = (
    FieldSpec("FNAME", "first_name", "text"),
    FieldSpec("NICKNAME", "nickname", "text"),
    FieldSpec("BDAY", "birthday", "birthday"),
    FieldSpec("BORN", "birthday", "text"),
    FieldSpec("GENDER", "gender", "dropdown", ("female", "male")),
    LANGUAGE_SPEC,
)


@pytest.mark.parametrize(
    ("person", "expected", "left_out"),
    [
        ({"first_name": "  Anna ", "language": "fr"}, ["Anna", "", "", "", "", "fr"], []),
        ({"first_name": "An\tna\n"}, ["An na", "", "", "", "", None], []),
        ({"first_name": "A" * 300}, ["A" * 255, "", "", "", "", None], []),
        ({"nickname": "", "gender": "male"}, ["", "", "", "", "male", None], []),
        (
            {"birthday": date(1990, 3, 7), "gender": "divers"},
            ["", "", "03/07", "1990-03-07", None, None],
            ["GENDER"],
        ),
    ],
)
def test_values_are_sent_trimmed_cleaned_cut_and_in_their_fields_format(person, expected, left_out):
    """Both ways of making a recipient's values (all at once, and value by value with the
    reasons when one does not fit) give the same values."""
    values, problems = wanted_values(TEXT_AND_DROPDOWN, recipient(**person))

    assert values == expected
    assert [problem.text % problem.params for problem in problems] == [
        f"{tag} left out: “divers” is not one of the field's choices (female, male)"
        for tag in left_out
    ]
    fields, reasons = encoder(TEXT_AND_DROPDOWN)(recipient(**person))
    assert (fields, list(reasons)) == (encode(values), problems)
