"""The recipient rules: who receives a mailing list, at which addresses."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import islice

import pytest
from sqlalchemy import insert

from mcbridge.extensions import db
from mcbridge.models import AdditionalEmail
from mcbridge.recipients import Recipient, recipients_of
from tests import factories as make
from tests.helpers import sql_statements

TODAY = date(2026, 6, 15)


@pytest.fixture
def org(app):
    """Federation > Region > Club > Juniors > U12, and the usual role types."""
    federation = make.group("Federation")
    region = make.group("North", federation)
    club = make.group("Club A", region)
    juniors = make.group("Juniors", club)
    u12 = make.group("U12", juniors)
    other_region = make.group("South", federation)
    return {
        "federation": federation,
        "region": region,
        "club": club,
        "juniors": juniors,
        "u12": u12,
        "south": other_region,
        "leader": make.role_type("Leader", manages=True),
        "member": make.role_type("Member"),
        "coach": make.role_type("Coach"),
    }


def emails(mailing_list, today: date = TODAY) -> list[str]:
    return [recipient.email for recipient in recipients_of(mailing_list, today).stream(db.session)]


def resolved(mailing_list, today: date = TODAY) -> list[Recipient]:
    return list(recipients_of(mailing_list, today).stream(db.session))


def skipped_by_stream(mailing_list, today: date = TODAY) -> int:
    """The people without an address as the export counts them, reading its stream."""
    streamed = recipients_of(mailing_list, today).stream(db.session)
    for _recipient in streamed:
        pass
    return streamed.skipped


def test_role_rule_reaches_groups_several_levels_below(org):
    deep = make.person("Deep")
    make.role(deep, org["u12"], org["member"])
    here = make.person("Here")
    make.role(here, org["region"], org["member"])
    above = make.person("Above")
    make.role(above, org["federation"], org["member"])
    sideways = make.person("Sideways")
    make.role(sideways, org["south"], org["member"])
    newsletter = make.mailing_list(org["region"])
    make.role_rule(newsletter, org["region"], org["member"])

    assert sorted(emails(newsletter)) == sorted([deep.email, here.email])


def test_only_the_rules_role_types_match(org):
    coach, member, leader = make.person("Coach"), make.person("Member"), make.person("Leader")
    make.role(coach, org["club"], org["coach"])
    make.role(member, org["club"], org["member"])
    make.role(leader, org["club"], org["leader"])
    coaches_and_leaders = make.mailing_list(org["club"])
    make.role_rule(coaches_and_leaders, org["club"], org["coach"], org["leader"])

    assert sorted(emails(coaches_and_leaders)) == sorted([coach.email, leader.email])


@pytest.mark.parametrize(
    ("start_on", "end_on", "receives"),
    [
        (None, None, True),
        (TODAY, None, True),
        (None, TODAY, True),
        (None, TODAY - timedelta(days=1), False),
        (TODAY + timedelta(days=1), None, False),
        (TODAY - timedelta(days=30), TODAY + timedelta(days=30), True),
    ],
    ids=["open", "starts-today", "ends-today", "ended-yesterday", "starts-tomorrow", "running"],
)
def test_only_active_roles_count(org, start_on, end_on, receives):
    holder = make.person()
    make.role(holder, org["club"], org["member"], start_on=start_on, end_on=end_on)
    members = make.mailing_list(org["club"])
    make.role_rule(members, org["club"], org["member"])

    assert emails(members) == ([holder.email] if receives else [])


def test_person_rule_adds_someone_without_a_matching_role(org):
    guest = make.person("Guest")
    newsletter = make.mailing_list(org["club"])
    make.person_rule(newsletter, guest)

    assert emails(newsletter) == [guest.email]


def test_exclusion_beats_every_include(org):
    excluded = make.person("Excluded")
    make.role(excluded, org["club"], org["member"])
    kept = make.person("Kept")
    make.role(kept, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"])
    make.role_rule(newsletter, org["club"], org["member"])
    make.person_rule(newsletter, excluded)
    make.person_rule(newsletter, excluded, excluded=True)

    assert emails(newsletter) == [kept.email]


def test_people_reached_by_several_rules_appear_once_with_the_first_rule(org):
    busy = make.person("Busy")
    make.role(busy, org["club"], org["member"])
    make.role(busy, org["juniors"], org["coach"])
    newsletter = make.mailing_list(org["club"])
    first = make.role_rule(newsletter, org["club"], org["member"])
    make.role_rule(newsletter, org["juniors"], org["coach"])
    make.person_rule(newsletter, busy)

    (only,) = resolved(newsletter)
    assert (only.email, only.via_subscription_id) == (busy.email, first.id)


def test_delivery_addresses_are_sent_only_when_the_list_asks(org):
    holder = make.person(
        "Multi", extra=(("work.multi@company-mail.ch", True), ("private.multi@home-mail.ch", False))
    )
    make.role(holder, org["club"], org["member"])
    primary_only = make.mailing_list(org["club"], "Primary only")
    make.role_rule(primary_only, org["club"], org["member"])
    all_delivery = make.mailing_list(org["club"], "All delivery", all_delivery=True)
    make.role_rule(all_delivery, org["club"], org["member"])

    assert emails(primary_only) == [holder.email]
    recipients = resolved(all_delivery)
    assert [(r.email, r.primary) for r in recipients] == [
        (holder.email, True),
        ("work.multi@company-mail.ch", False),
    ]
    assert {r.first_name for r in recipients} == {"Multi"}


def test_a_shared_address_is_sent_once_for_the_lowest_person_id(org):
    older = make.person("Claire", "Rochat", email="famille.rochat@home-mail.ch")
    younger = make.person("Hugo", "Rochat", email="famille.rochat@home-mail.ch")
    repeats = make.person("Repeat", extra=(("repeat.x@club-mail.ch", True),))
    repeats.additional_emails[0].email = repeats.email
    for someone in (older, younger, repeats):
        make.role(someone, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(newsletter, org["club"], org["member"])

    recipients = resolved(newsletter)
    assert [(r.email, r.person_id, r.primary) for r in recipients] == [
        ("famille.rochat@home-mail.ch", older.id, True),
        (repeats.email, repeats.id, True),
    ]


def test_addresses_are_stored_lowercased_and_trimmed(org):
    shouting = make.person("Shouting", email="  Anna.MUSTER@Club-Mail.CH ")
    make.role(shouting, org["club"], org["member"])
    same = make.person("Same", email="anna.muster@club-mail.ch")
    make.role(same, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"])
    make.role_rule(newsletter, org["club"], org["member"])

    assert emails(newsletter) == ["anna.muster@club-mail.ch"]


def test_people_without_a_usable_address_are_counted_and_listed(org):
    nobody = make.person("Nobody", email=None)
    only_extra = make.person("OnlyExtra", email=None, extra=(("only.extra@club-mail.ch", True),))
    reachable = make.person("Reachable")
    for someone in (nobody, only_extra, reachable):
        make.role(someone, org["club"], org["member"])
    primary_only = make.mailing_list(org["club"])
    make.role_rule(primary_only, org["club"], org["member"])
    all_delivery = make.mailing_list(org["club"], "All", all_delivery=True)
    make.role_rule(all_delivery, org["club"], org["member"])

    recipients = recipients_of(primary_only, TODAY)
    counts = recipients.counts(db.session)
    assert (counts.people, counts.addresses, counts.skipped) == (3, 1, 2)
    skipped = [person.first_name for person, _via in db.session.execute(recipients.skipped())]
    assert sorted(skipped) == ["Nobody", "OnlyExtra"]

    assert skipped_by_stream(primary_only) == 2
    counts = recipients_of(all_delivery, TODAY).counts(db.session)
    assert (counts.people, counts.addresses, counts.skipped) == (3, 2, 1)
    assert skipped_by_stream(all_delivery) == 1


def test_the_export_stream_counts_each_person_without_an_address_once(org):
    twice = make.person("Twice", email=None)
    make.role(twice, org["club"], org["member"])
    make.role(twice, org["club"], org["coach"])
    blank = make.person("Blank", email=None)
    blank.email = ""
    make.role(blank, org["club"], org["member"])
    left_out = make.person("LeftOut", email=None)
    make.role(left_out, org["club"], org["member"])
    first = make.person("First", email="shared@club-mail.ch")
    sharing = make.person("Sharing", email=None, extra=(("shared@club-mail.ch", True),))
    not_for_mailings = make.person("Kept", email=None, extra=(("kept@club-mail.ch", False),))
    empty_extra = make.person("EmptyExtra", email="empty.extra@club-mail.ch")
    # An empty delivery address, as a host's own statement could write one: no address.
    empty = {"person_id": empty_extra.id, "email": "", "mailings": True}
    db.session.execute(insert(AdditionalEmail).values(**empty))
    for someone in (first, sharing, not_for_mailings, empty_extra):
        make.role(someone, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(newsletter, org["club"], org["member"])
    make.role_rule(newsletter, org["club"], org["coach"])
    make.person_rule(newsletter, left_out, excluded=True)

    skipped = db.session.execute(recipients_of(newsletter, TODAY).skipped())
    assert sorted(person.first_name for person, _via in skipped) == ["Blank", "Kept", "Twice"]
    assert emails(newsletter) == ["empty.extra@club-mail.ch", "shared@club-mail.ch"]
    assert skipped_by_stream(newsletter) == 3


def test_a_stream_read_in_chunks_sends_a_shared_address_once(org):
    first = make.person("First", email="shared@club-mail.ch")
    second = make.person("Second", email=None, extra=(("shared@club-mail.ch", True),))
    third = make.person("Third", email="third@club-mail.ch")
    for someone in (first, second, third):
        make.role(someone, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(newsletter, org["club"], org["member"])

    streamed = recipients_of(newsletter, TODAY).stream(db.session)
    chunks = list(iter(lambda: [r.first_name for r in islice(streamed, 1)], []))

    assert chunks == [["First"], ["Third"]]


def test_rules_of_other_lists_do_not_leak(org):
    member = make.person()
    make.role(member, org["club"], org["member"])
    guest = make.person("Guest")
    ours = make.mailing_list(org["club"], "Ours")
    make.role_rule(ours, org["club"], org["member"])
    theirs = make.mailing_list(org["club"], "Theirs")
    make.person_rule(theirs, guest)
    make.person_rule(theirs, member, excluded=True)

    assert emails(ours) == [member.email]
    assert emails(theirs) == [guest.email]


def test_resolution_costs_the_same_few_queries_however_many_people(org):
    """The rules with their role types and tags (3), each rule's group tree (1), then one
    statement for every recipient."""
    newsletter = make.mailing_list(org["federation"], all_delivery=True)
    make.role_rule(newsletter, org["federation"], org["member"], org["coach"])
    groups = [org["club"], org["juniors"], org["u12"], org["south"]]
    counted = []
    for batch in range(2):
        for number in range(60):
            someone = make.person(extra=((f"extra{batch}.{number}@club-mail.ch", True),))
            make.role(someone, groups[number % 4], org["member"])
        db.session.commit()
        db.session.refresh(newsletter)
        with sql_statements() as statements:
            assert len(resolved(newsletter)) == 120 * (batch + 1)
        counted.append(len(statements))

    assert counted == [5, 5]


def test_the_exports_address_order_gives_the_same_recipients(org):
    older = make.person("Claire", "Rochat", email="famille.rochat@home-mail.ch")
    younger = make.person("Hugo", "Rochat", email="famille.rochat@home-mail.ch")
    extra = make.person(
        "Zed", extra=(("a.first@club-mail.ch", True), ("z.last@club-mail.ch", True))
    )
    for someone in (younger, older, extra):
        make.role(someone, org["club"], org["member"])
    newsletter = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(newsletter, org["club"], org["member"])
    recipients = recipients_of(newsletter, TODAY)

    by_person = [Recipient(*row) for row in db.session.execute(recipients.addresses())]
    by_address = list(recipients.stream(db.session))

    assert sorted(by_person, key=lambda r: r.email) == by_address
    assert [r.email for r in by_address] == sorted(r.email for r in by_address)
    shared = next(r for r in by_address if r.email == "famille.rochat@home-mail.ch")
    assert shared.first_name == "Claire"


def receivers(mailing_list, today: date = TODAY) -> list[str]:
    """The first names of those who receive the list, the same by both ways of reading it
    (the subscriber view's pages and the export's scan in address order)."""
    recipients = recipients_of(mailing_list, today)
    by_person = sorted({row.first_name for row in db.session.execute(recipients.addresses())})
    by_address = {r.first_name for r in recipients.stream(db.session)}
    assert sorted(by_address) == by_person
    assert recipients.counts(db.session).people == len(by_person)
    return by_person


def tagged(first_name: str, *tags: str):
    someone = make.person(first_name)
    someone.tag_names = list(tags)
    return someone


def test_a_rule_requiring_tags_reaches_people_with_one_of_them(org):
    for someone in (
        tagged("Board", "Vorstand"),
        tagged("Coach", "J+S"),
        tagged("Both", "Vorstand", "J+S"),
        tagged("Untagged"),
        tagged("Other", "Veteran"),
    ):
        make.role(someone, org["club"], org["member"])
    board = make.mailing_list(org["club"])
    rule = make.role_rule(board, org["club"], org["member"])
    rule.required_tags = ["Vorstand", "J+S"]
    db.session.flush()

    assert receivers(board) == ["Board", "Both", "Coach"]


def test_a_rule_excluding_tags_keeps_everyone_else_and_beats_a_required_tag(org):
    for someone in (
        tagged("Board", "Vorstand"),
        tagged("Retired", "Vorstand", "Retired"),
        tagged("Untagged"),
    ):
        make.role(someone, org["club"], org["member"])
    everyone = make.mailing_list(org["club"], "Everyone")
    make.role_rule(everyone, org["club"], org["member"]).excluded_tags = ["Retired"]
    board = make.mailing_list(org["club"], "Board")
    rule = make.role_rule(board, org["club"], org["member"])
    rule.required_tags, rule.excluded_tags = ["Vorstand"], ["Retired"]
    db.session.flush()

    assert receivers(everyone) == ["Board", "Untagged"]
    assert receivers(board) == ["Board"]


def test_a_tag_test_belongs_to_its_rule_alone(org):
    coach = tagged("Coach")
    make.role(coach, org["club"], org["coach"])
    board = tagged("Board", "Vorstand")
    make.role(board, org["club"], org["member"])
    member = tagged("Member")
    make.role(member, org["club"], org["member"])
    added = tagged("Added")
    mixed = make.mailing_list(org["club"])
    make.role_rule(mixed, org["club"], org["coach"])
    make.role_rule(mixed, org["club"], org["member"]).required_tags = ["Vorstand"]
    make.person_rule(mixed, added)
    db.session.flush()

    assert receivers(mixed) == ["Added", "Board", "Coach"]


def test_list_filters_keep_only_the_language_gender_and_ages_chosen(org):
    people = {
        "Fr18": ("fr", "female", date(2008, 6, 15)),
        "Fr30": ("fr", "female", date(1995, 6, 16)),
        "Fr31": ("fr", "female", date(1995, 6, 15)),
        "Fr17": ("fr", "female", date(2008, 6, 16)),
        "De20": ("de", "female", date(2006, 1, 1)),
        "FrMale": ("fr", "male", date(2006, 1, 1)),
        "FrUnknownAge": ("fr", "female", None),
        "UnknownLanguage": (None, "female", date(2006, 1, 1)),
    }
    for name, (language, gender, birthday) in people.items():
        someone = make.person(name)
        someone.language, someone.gender, someone.birthday = language, gender, birthday
        make.role(someone, org["club"], org["member"])
    young_french_women = make.mailing_list(org["club"])
    make.role_rule(young_french_women, org["club"], org["member"])
    young_french_women.filter_language, young_french_women.filter_gender = "fr", "female"
    young_french_women.filter_min_age, young_french_women.filter_max_age = 18, 30
    db.session.flush()

    assert receivers(young_french_women) == ["Fr18", "Fr30"]
    counts = recipients_of(young_french_women, TODAY).counts(db.session)
    assert counts.skipped == 0


def test_list_filters_apply_to_people_added_directly_too(org):
    adult, child = make.person("Adult"), make.person("Child")
    adult.birthday, child.birthday = date(1990, 1, 1), date(2015, 1, 1)
    adults = make.mailing_list(org["club"])
    make.person_rule(adults, adult)
    make.person_rule(adults, child)
    adults.filter_min_age = 18
    db.session.flush()

    assert receivers(adults) == ["Adult"]


def test_an_age_counts_a_29_february_birthday_from_1_march(org):
    leapling = make.person("Leapling")
    leapling.birthday = date(2008, 2, 29)
    make.role(leapling, org["club"], org["member"])
    adults = make.mailing_list(org["club"])
    make.role_rule(adults, org["club"], org["member"])
    adults.filter_min_age = 18
    db.session.flush()

    assert receivers(adults, date(2026, 2, 28)) == []
    assert receivers(adults, date(2026, 3, 1)) == ["Leapling"]


COMPANIES = {
    "Upper": "ÉCOLE MÜLLER",
    "Lower": "école müller",
    "Street": "STRAẞE 5",
    "Percent": "100% Sport_Club",
    "Plain": "1000 SportXClub",
    "Blank": "",
    "Unknown": None,
}
EVERY_COMPANY = sorted(COMPANIES)


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("is", "École Müller", ["Lower", "Upper"]),
        ("is", "straße 5", ["Street"]),
        ("is_not", "école MÜLLER", ["Blank", "Percent", "Plain", "Street", "Unknown"]),
        ("contains", "CoLe mü", ["Lower", "Upper"]),
        ("not_contains", "ÜLL", ["Blank", "Percent", "Plain", "Street", "Unknown"]),
        ("starts_with", "éc", ["Lower", "Upper"]),
        ("starts_with", "cole", []),
        ("contains", "0% sport_", ["Percent"]),
        ("contains", "_", ["Percent"]),
        ("starts_with", "100%", ["Percent"]),
        ("not_contains", "%", sorted(set(EVERY_COMPANY) - {"Percent"})),
        ("empty", None, ["Blank", "Unknown"]),
        ("not_empty", None, ["Lower", "Percent", "Plain", "Street", "Upper"]),
    ],
)
def test_a_condition_on_a_text_field_ignores_case_in_every_language(
    org, condition, value, expected
):
    chosen = members_with_condition(org, "company", COMPANIES, condition, value)

    assert receivers(chosen) == expected


def members_with_condition(org, field: str, values: dict, condition: str, value: str | None):
    """The club's members, named by `values`' keys, each with that `field`; their list has
    one condition on it."""
    for first_name, field_value in values.items():
        someone = make.person(first_name)
        setattr(someone, field, field_value)
        make.role(someone, org["club"], org["member"])
    chosen = make.mailing_list(org["club"])
    make.role_rule(chosen, org["club"], org["member"])
    chosen.filter_field, chosen.filter_condition, chosen.filter_value = field, condition, value
    db.session.flush()
    return chosen


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("before", "2000-01-01", ["Older"]),
        ("after", "2000-01-01", ["Younger"]),
        ("empty", None, ["Unknown"]),
        ("not_empty", None, ["Older", "OnTheDay", "Younger"]),
    ],
)
def test_a_condition_on_the_birthday(org, condition, value, expected):
    born = {
        "Older": date(1999, 12, 31),
        "OnTheDay": date(2000, 1, 1),
        "Younger": date(2000, 1, 2),
        "Unknown": None,
    }
    chosen = members_with_condition(org, "birthday", born, condition, value)

    assert receivers(chosen) == expected


def test_a_field_condition_joins_the_other_filters_and_the_skipped(org):
    people = {
        "Match": ("fr", "Martin", "martin@club-mail.ch"),
        "OtherLanguage": ("de", "Martin", "de.martin@club-mail.ch"),
        "OtherName": ("fr", "Meier", "meier@club-mail.ch"),
        "NoAddress": ("fr", "MARTIN", None),
        "OtherNoAddress": ("fr", "Meier", None),
    }
    for first_name, (language, last_name, email) in people.items():
        someone = make.person(first_name, last_name, email=email)
        someone.language = language
        make.role(someone, org["club"], org["member"])
    chosen = make.mailing_list(org["club"])
    make.role_rule(chosen, org["club"], org["member"])
    chosen.filter_language = "fr"
    chosen.filter_field, chosen.filter_condition, chosen.filter_value = "last_name", "is", "martin"
    db.session.flush()

    recipients = recipients_of(chosen, TODAY)
    assert emails(chosen) == ["martin@club-mail.ch"]
    skipped = db.session.execute(recipients.skipped())
    assert [person.first_name for person, _via in skipped] == ["NoAddress"]
    assert recipients.counts(db.session).people == 2
    assert skipped_by_stream(chosen) == 1


def test_preferred_labels_send_only_the_delivery_addresses_with_them(org):
    someone = make.person("Worker", email=None)
    someone.additional_emails = [
        AdditionalEmail(email="at.work@firm.ch", label="Work", mailings=True),
        AdditionalEmail(email="at.home@home-mail.ch", label="home", mailings=True),
        AdditionalEmail(email="old.work@firm.ch", label="work", mailings=False),
    ]
    home_only = make.person("HomeOnly", email=None)
    home_only.additional_emails = [
        AdditionalEmail(email="home.only@home-mail.ch", label="home", mailings=True)
    ]
    for holder in (someone, home_only):
        make.role(holder, org["club"], org["member"])
    work_list = make.mailing_list(org["club"], all_delivery=True)
    make.role_rule(work_list, org["club"], org["member"])
    work_list.delivery_labels = ["work"]
    db.session.flush()

    recipients = recipients_of(work_list, TODAY)
    assert [row.email for row in db.session.execute(recipients.addresses())] == ["at.work@firm.ch"]
    assert [r.email for r in recipients.stream(db.session)] == ["at.work@firm.ch"]
    skipped = [person.first_name for person, _via in db.session.execute(recipients.skipped())]
    assert skipped == ["HomeOnly"]
    assert skipped_by_stream(work_list) == 1
