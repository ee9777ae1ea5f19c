"""A realistic organisation of any size, built fast with bulk inserts (SQLite or PostgreSQL).

Shape, by default per the scale issue: ~1.3 roles per person, a group tree five levels
deep, 10% of people with an additional delivery address, 2% without any email, a few
ended and future roles, and one mailing list whose role rules cover everyone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import insert, select, text

from mcbridge.extensions import db
from mcbridge.models import (
    AdditionalEmail,
    Group,
    MailingList,
    Person,
    Role,
    RoleType,
    Subscription,
    subscription_role_types,
)

FIRST = ("anna", "lea", "marie", "julia", "luca", "noah", "louis", "jonas", "elena", "david")
LAST = ("muller", "meier", "schmid", "keller", "weber", "huber", "favre", "rochat", "rossi")
DOMAINS = ("bluewin.ch", "gmx.ch", "sunrise.ch", "hispeed.ch", "protonmail.ch")
ROLE_TYPES = (("Leader", True, 0.05), ("Coach", False, 0.12), ("Treasurer", False, 0.03))
CHUNK = 20_000


@dataclass(frozen=True)
class Built:
    mailing_list_id: int
    people: int
    roles: int
    groups: int
    additional: int
    seconds: float


def level_sizes(groups: int, depth: int) -> list[int]:
    """Group counts per level, growing geometrically to the requested total."""
    ratio = max(groups ** (1 / (depth - 1)), 2.0)
    sizes = [max(1, round(ratio**level)) for level in range(depth)]
    sizes[-1] = max(1, groups - sum(sizes[:-1]))
    return sizes


def bulk(model: Any, rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows in chunks; returns how many."""
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            db.session.execute(insert(model), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        db.session.execute(insert(model), chunk)
        count += len(chunk)
    return count


def build(
    people: int,
    *,
    groups: int = 5000,
    depth: int = 5,
    extra_roles: float = 0.3,
    additional_share: float = 0.10,
    seed: int = 1,
) -> Built:
    """Fill an empty, migrated database (inside an app context) with an organisation."""
    started = time.perf_counter()
    upgrade()
    rng = random.Random(seed)
    group_ids = build_groups(groups, depth)
    role_type_ids = build_role_types()
    bulk(Person, person_rows(people, rng))
    additional = bulk(AdditionalEmail, additional_rows(people, additional_share, rng))
    roles = bulk(Role, role_rows(people, extra_roles, group_ids, role_type_ids, rng))
    list_id = build_mailing_list(group_ids[0], list(role_type_ids.values()))
    db.session.commit()
    analyse()
    return Built(list_id, people, roles, len(group_ids), additional, time.perf_counter() - started)


def build_groups(groups: int, depth: int) -> list[int]:
    ids: list[int] = []
    parents: list[int | None] = [None]
    next_id = 1
    for level, size in enumerate(level_sizes(groups, depth)):
        rows = [
            {
                "id": next_id + index,
                "name": f"Group {level}.{index}",
                "parent_id": parents[index % len(parents)],
            }
            for index in range(size)
        ]
        db.session.execute(insert(Group), rows)
        parents = [row["id"] for row in rows]
        ids.extend(parents)
        next_id += size
    return ids


def build_role_types() -> dict[str, int]:
    names = [("Member", False), *((name, manages) for name, manages, _ in ROLE_TYPES)]
    db.session.execute(insert(RoleType), [{"name": n, "manages": m} for n, m in names])
    return {row.name: row.id for row in db.session.execute(select(RoleType.name, RoleType.id))}


def person_rows(people: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for number in range(1, people + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = None if rng.random() < 0.02 else f"{first}.{last}.{number}@{rng.choice(DOMAINS)}"
        yield {"id": number, "first_name": first.title(), "last_name": last.title(), "email": email}


def additional_rows(people: int, share: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    for number in range(1, people + 1):
        if rng.random() < share:
            yield {
                "person_id": number,
                "email": f"extra.{number}@office-mail.ch",
                "mailings": True,
                "label": "work",
            }


def role_rows(
    people: int,
    extra_roles: float,
    group_ids: list[int],
    role_type_ids: dict[str, int],
    rng: random.Random,
) -> Iterator[dict[str, Any]]:
    today = date.today()
    weighted = [(role_type_ids[name], share) for name, _, share in ROLE_TYPES]
    for number in range(1, people + 1):
        for _ in range(2 if rng.random() < extra_roles else 1):
            kind = next(
                (rid for rid, share in weighted if rng.random() < share), role_type_ids["Member"]
            )
            chance = rng.random()
            start_on = today + timedelta(days=30) if chance < 0.02 else None
            end_on = today - timedelta(days=30) if 0.02 <= chance < 0.07 else None
            yield {
                "person_id": number,
                "group_id": rng.choice(group_ids),
                "role_type_id": kind,
                "start_on": start_on,
                "end_on": end_on,
            }


def build_mailing_list(
    root_id: int, role_type_ids: list[int], name: str = "Everyone", everyone: bool = True
) -> int:
    """A list whose one rule reaches every role type in the group's subtree (`everyone`:
    at all their delivery addresses too)."""
    mailing_list = MailingList(group_id=root_id, name=name, sync_all_delivery_addresses=everyone)
    db.session.add(mailing_list)
    db.session.flush()
    rule = Subscription(mailing_list_id=mailing_list.id, group_id=root_id)
    db.session.add(rule)
    db.session.flush()
    db.session.execute(
        insert(subscription_role_types),
        [{"subscription_id": rule.id, "role_type_id": rid} for rid in role_type_ids],
    )
    return mailing_list.id


def analyse() -> None:
    """Fresh statistics, so both databases plan the recipient query as they would in use."""
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def build_regional_lists(count: int, level: int = 2, kind: str = "District") -> list[int]:
    """One list per group of the level (the third by default: a region's district, say),
    each reaching every role in its subtree: the many lists that many workers share out."""
    district_ids = db.session.scalars(
        select(Group.id).where(Group.name.like(f"Group {level}.%")).order_by(Group.id).limit(count)
    ).all()
    role_type_ids = list(db.session.scalars(select(RoleType.id)))
    list_ids = [
        build_mailing_list(group_id, role_type_ids, name=f"{kind} {number}", everyone=False)
        for number, group_id in enumerate(district_ids, start=1)
    ]
    db.session.commit()
    return list_ids
