"""The big list with a tag requirement, list filters (a condition on the last name among
them) and a preferred label switched on, for the "resolve-filtered" scenario, and off
again so later scenarios export as before.

Everything is one set-based statement per step (SQLite and PostgreSQL alike): a third of
the people get the tag, half are women, birthdays spread over five years' ages.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, delete, insert, literal, select, update

from mcbridge.extensions import db
from mcbridge.models import MailingList, Person, Subscription
from mcbridge.models.mailing_lists import SubscriptionTag
from mcbridge.models.people import PersonTag

TAG = "Vorstand"
BIRTHDAYS = {0: date(1960, 5, 1), 1: date(1985, 5, 1), 2: date(1995, 5, 1), 3: date(2005, 5, 1)}


def switch_on(list_id: int) -> None:
    db.session.execute(
        update(Person).values(
            gender=case((Person.id % 2 == 0, "female"), else_="male"),
            birthday=case(
                *((Person.id % 5 == rest, born) for rest, born in BIRTHDAYS.items()),
                else_=date(2015, 5, 1),
            ),
        )
    )
    tagged = select(Person.id, literal(TAG)).where(Person.id % 3 == 0)
    db.session.execute(insert(PersonTag).from_select(["person_id", "name"], tagged))
    mailing_list = db.session.get(MailingList, list_id)
    for rule in mailing_list.subscriptions:
        rule.required_tags, rule.excluded_tags = [TAG, "J+S"], ["Retired"]
    mailing_list.filter_gender, mailing_list.filter_min_age = "female", 18
    mailing_list.filter_max_age, mailing_list.delivery_labels = 60, ["work"]
    mailing_list.filter_field, mailing_list.filter_condition = "last_name", "not_contains"
    mailing_list.filter_value = "zz"
    db.session.commit()


def switch_off(list_id: int) -> None:
    rules = select(Subscription.id).where(Subscription.mailing_list_id == list_id)
    db.session.execute(delete(SubscriptionTag).where(SubscriptionTag.subscription_id.in_(rules)))
    db.session.execute(delete(PersonTag))
    db.session.execute(update(Person).values(gender=None, birthday=None))
    db.session.execute(
        update(MailingList)
        .where(MailingList.id == list_id)
        .values(
            filter_gender=None,
            filter_min_age=None,
            filter_max_age=None,
            delivery_labels=None,
            filter_field=None,
            filter_condition=None,
            filter_value=None,
        )
    )
    db.session.commit()
