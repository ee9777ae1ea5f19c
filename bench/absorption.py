"""What the sandbox alone absorbs from the requests an initial export sends.

The initial export of a list to an empty audience is one batch subscribe per 500
recipients. Here the same calls are built by mcbridge's own code (the fields and tags
`Export.wanted` gives each recipient, the entry `subscriber` makes of it, the answer
`batch_subscribe` asks for), encoded before the clock starts, and sent with the same
number of connections to a fresh sandbox process of their own: only the sandbox is
measured. `bench.run`'s `absorption` scenario divides this time by the initial export's.

The client here reuses one session, as mcbridge's does, so connections are opened as
often as the sandbox's server lets them be kept.

    .venv/bin/python -m bench.absorption LIST_ID CONNECTIONS REPEATS   # settings from the
                                                                       # environment

It runs in a process of its own: the encoded calls of a large list take hundreds of
megabytes, and a process the benchmark starts later would inherit that high-water mark
as its own peak memory.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path

import requests
from mcbridge_sandbox import SandboxControl

from bench.sandbox_throughput import api_base, sandbox_process
from mcbridge import create_app
from mcbridge.extensions import db
from mcbridge.mailchimp.audience import (
    BATCH_SUBSCRIBE_LIMIT,
    MAX_PAGE,
    MEMBER_FIELDS,
    SUBSCRIBE_ANSWER,
)
from mcbridge.models import MailingList
from mcbridge.sync.apply import Target, subscriber
from mcbridge.sync.engine import exported_recipients, wanting
from mcbridge.sync.fields import FieldSpec, fields_of
from mcbridge.sync.plan import Action, Step

# One batch subscribe: how many members, and its body as sent.
Call = tuple[int, bytes]


@dataclass(frozen=True)
class Absorbed:
    """`seconds`: each replay's time, in order."""

    members: int
    calls: int
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def per_second(self) -> float:
        return self.members / self.median


def initial_calls(mailing_list: MailingList) -> Iterator[Call]:
    """The initial export's batch subscribes, encoded: (members, body) per call. Merge
    fields keep the types the list gives them (the audience is new, as the export's was)."""
    specs = fields_of(mailing_list)
    target = Target(
        client=None,  # type: ignore[arg-type]  # entries only: nothing is sent from here
        list_id="",
        tag=mailing_list.managed_tag,
        field_tags=tuple(spec.tag for spec in specs),
        workers=0,
        batch_threshold=0,
        batch_poll=0,
        batch_timeout=0,
    )
    recipients = exported_recipients(mailing_list, specs).stream(db.session)
    wanted_of = wanting(specs, role_tags=mailing_list.role_tags)
    while chunk := list(islice(recipients, BATCH_SUBSCRIBE_LIMIT)):
        entries = []
        for recipient in chunk:
            wanted, _problems = wanted_of(recipient)
            entries.append(subscriber(Step(Action.ADD, recipient.email, wanted, None), target))
        body = json.dumps({"members": entries, "update_existing": False}).encode()
        yield len(entries), body


def absorbed(mailing_list: MailingList, connections: int, repeats: int) -> Absorbed:
    """The initial export's calls sent `repeats` times, each time to a fresh sandbox,
    `connections` at a time (one replay varied by 15% on a shared machine)."""
    calls = list(initial_calls(mailing_list))
    merge_fields = [spec for spec in fields_of(mailing_list) if spec.is_merge_field]
    seconds = tuple(replay(calls, merge_fields, connections) for _ in range(repeats))
    return Absorbed(sum(members for members, _body in calls), len(calls), seconds)


def replay(calls: list[Call], merge_fields: list[FieldSpec], connections: int) -> float:
    """Seconds a fresh sandbox takes to absorb `calls`."""
    with (
        tempfile.TemporaryDirectory() as directory,
        sandbox_process(str(Path(directory) / "sandbox.sqlite3")) as url,
        requests.Session() as session,
    ):
        endpoint = new_audience(session, url, merge_fields)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=connections) as pool:
            list(pool.map(partial(send, session, endpoint), calls))
        return time.perf_counter() - started


def new_audience(session: requests.Session, url: str, merge_fields: list[FieldSpec]) -> str:
    """An audience with the list's merge fields, as the export creates them; returns the
    batch-subscribe address, asking for the answer the export asks for."""
    control = SandboxControl(url)
    key = control.add_account()
    audience_id = control.add_audience(key, "Absorption")
    session.auth = ("bench", key)
    fields_url = f"{api_base(url, key)}lists/{audience_id}/merge-fields"
    existing = session.get(fields_url, params={"count": 1000}).json()["merge_fields"]
    tags = {field["tag"] for field in existing}
    for spec in merge_fields:
        if spec.tag not in tags:
            session.post(fields_url, json=spec.creation()).raise_for_status()
    return f"{api_base(url, key)}lists/{audience_id}?fields={SUBSCRIBE_ANSWER}"


def send(session: requests.Session, endpoint: str, call: Call) -> int:
    """One batch subscribe; every member must come back written."""
    members, body = call
    headers = {"Content-Type": "application/json"}
    response = session.post(endpoint, data=body, headers=headers, timeout=120)
    response.raise_for_status()
    answer = response.json()
    written = len(answer.get("new_members", [])) + len(answer.get("updated_members", []))
    if written != members:
        raise RuntimeError(f"{written} of {members} members were written")
    return members


def read_back(api_base_url: str, key: str, audience_id: str, connections: int) -> float:
    """Seconds the sandbox takes to serve a whole audience as an export's full read asks
    for it (pages of 1,000, the same fields, `connections` at a time), the client only
    decoding the answers: the floor under the first re-read after a large export, which
    reads back every member the export wrote."""
    url = f"{api_base_url}lists/{audience_id}/members"
    fields = ",".join(f"members.{name}" for name in MEMBER_FIELDS) + ",total_items"
    with requests.Session() as session:
        session.auth = ("bench", key)

        def page(offset: int) -> int:
            query = {"count": MAX_PAGE, "offset": offset, "fields": fields}
            response = session.get(url, params=query, timeout=120)
            response.raise_for_status()
            return len(response.json()["members"])

        started = time.perf_counter()
        total = session.get(url, params={"count": 1, "fields": "total_items"}).json()
        offsets = range(0, int(total["total_items"]), MAX_PAGE)
        with ThreadPoolExecutor(max_workers=connections) as pool:
            read = sum(pool.map(page, offsets))
        seconds = time.perf_counter() - started
    if read != total["total_items"]:
        raise RuntimeError(f"{read} of {total['total_items']} members were served")
    return seconds


def main() -> None:
    list_id, connections, repeats = (int(argument) for argument in sys.argv[1:4])
    with create_app().app_context():
        mailing_list = db.session.get(MailingList, list_id)
        assert mailing_list is not None, f"no mailing list {list_id}"
        result = absorbed(mailing_list, connections, repeats)
    print(json.dumps({"members": result.members, "calls": result.calls, "seconds": result.seconds}))


if __name__ == "__main__":
    main()
