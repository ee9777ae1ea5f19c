"""Fifty lists, three real workers at once: each list exported exactly once, and lists that
share an audience never touch each other's contacts, even when one lets a contact go that
the others keep."""

from __future__ import annotations

from collections import Counter

from rq.job import Job
from sqlalchemy import select

from mcbridge.extensions import db
from mcbridge.jobs import enqueue_sync
from mcbridge.jobs import state as queue_state
from mcbridge.models import MailingList, Person, SyncRun
from tests import factories as make
from tests.helpers import worker_processes
from tests.sync.conftest import link

LISTS = 50
AUDIENCES = 10  # list n exports to audience n % 10: five lists per audience


def tag_names(member: dict) -> set[str]:
    return {tag["name"] for tag in member["tags"]}


def managed_contacts(sandbox, audience: str, mailing_list: MailingList) -> set[str]:
    """Subscribed contacts of the audience that carry the list's tag."""
    return {
        member["email_address"]
        for member in sandbox.members(audience)
        if member["status"] == "subscribed" and mailing_list.managed_tag in tag_names(member)
    }


def export_all(app, lists: list[MailingList]) -> list[SyncRun]:
    for mailing_list in lists:
        enqueue_sync(mailing_list, trigger="manual")
    worker_processes(app, count=3)
    db.session.expire_all()
    return list(db.session.scalars(select(SyncRun).order_by(SyncRun.id)))


def test_fifty_lists_on_three_workers_are_each_exported_once_without_cross_talk(app, sandbox):
    key = sandbox.add_account()
    audiences = [sandbox.add_audience(key, f"Region {n}") for n in range(AUDIENCES)]
    federation = make.group("Federation")
    member_type = make.role_type("Member")
    shared = make.person("Sam")
    lists: list[MailingList] = []
    members: dict[int, set[str]] = {}
    for n in range(LISTS):
        club = make.group(f"Club {n}", federation)
        people = [make.person("Anna"), make.person("Ben")]
        for person in people:
            make.role(person, club, member_type)
        mailing_list = make.mailing_list(club, f"Club {n} news")
        make.role_rule(mailing_list, club, member_type)
        link(mailing_list, key, audiences[n % AUDIENCES])
        lists.append(mailing_list)
        members[mailing_list.id] = {person.email for person in people}
    first_audience_lists = lists[::AUDIENCES]
    for mailing_list in first_audience_lists:
        make.person_rule(mailing_list, shared)
        members[mailing_list.id].add(shared.email)
    db.session.commit()

    runs = export_all(app, lists)

    assert Counter(run.mailing_list_id for run in runs) == {ml.id: 1 for ml in lists}
    assert {run.state for run in runs} == {"success"}
    workers = {Job.fetch(run.job_id, connection=queue_state().redis).worker_name for run in runs}
    assert len(workers) == 3
    for n, audience in enumerate(audiences):
        posts = sandbox.requests(api_key=key, method="POST", path_prefix=f"/3.0/lists/{audience}")
        subscribes = [call for call in posts if call["path"] == f"/3.0/lists/{audience}"]
        assert len(subscribes) == LISTS // AUDIENCES  # one batch subscribe per list, no repeat
        for mailing_list in lists[n::AUDIENCES]:
            assert managed_contacts(sandbox, audience, mailing_list) == members[mailing_list.id]

    leaving = first_audience_lists[0]
    make.person_rule(leaving, db.session.get(Person, shared.id), excluded=True)
    db.session.commit()
    sandbox.clear_requests()

    second = export_all(app, lists)[LISTS:]

    states = {run.mailing_list_id: run.state for run in second}
    assert states == {ml.id: "success" if ml is leaving else "unchanged" for ml in lists}
    sam = sandbox.member(audiences[0], shared.email)
    assert sam["status"] == "subscribed"
    assert tag_names(sam) == {ml.managed_tag for ml in first_audience_lists[1:]}
    writes = sandbox.requests(api_key=key, method="POST") + sandbox.requests(
        api_key=key, method="DELETE"
    )
    assert len(writes) == 1  # only the list that let Sam go wrote: one tag off, no archive
