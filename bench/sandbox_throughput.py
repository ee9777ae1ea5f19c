"""How much the Mailchimp sandbox absorbs on this machine.

Runs the sandbox in its own process (as `python -m mcbridge_sandbox`), so that the client
here does not share its interpreter, and prints a table:

- member upserts per second through batch subscribe (POST /lists/{id}, 500 members a
  call, 10 connections at once, the documented Mailchimp maximum);
- member upserts per second through /batches (PUT operations, timed from the first
  submission until the last batch is finished);
- the time to pre-fill a 1,000,000-member audience with `SandboxData.bulk_load_members`, and
  the time of a page read at offset 999,000 of it.

Usage, from the repository root:
    python -m bench.sandbox_throughput [--members 100000] [--deep 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import requests
from mcbridge_sandbox import SandboxControl, SandboxData, data_centre, subscriber_hash

from bench.processes import ROOT, free_port

CALL_SIZE = 500
CONNECTIONS = 10
OPERATIONS_PER_BATCH = 5_000
TARGET_PER_SECOND = 5_000
PROJECTION = "members.email_address,members.status,members.merge_fields,total_items"


def address(n: int) -> str:
    return f"member{n}@bench-members.org"


@contextmanager
def sandbox_process(data: str) -> Iterator[str]:
    """A sandbox server in a child process; yields its URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "mcbridge_sandbox", "--port", str(port), "--data", data]
    child = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/_sandbox/clock", timeout=1)
        except requests.ConnectionError:
            time.sleep(0.05)
        else:
            return
    raise RuntimeError("the sandbox did not start")


def api_base(url: str, key: str) -> str:
    return f"{url}/{data_centre(key)}/3.0/"


def batch_subscribe_rate(url: str, members: int, *, lean: bool) -> float:
    """Bodies are encoded before the clock starts: the sandbox is measured, not the client.

    `lean` asks for `exclude_fields=new_members,updated_members`, as an efficient client
    does, so that the response carries the counts and errors only.
    """
    control = SandboxControl(url)
    key = control.add_account()
    audience_id = control.add_audience(key, "Batch subscribe")
    endpoint = f"{api_base(url, key)}lists/{audience_id}"
    query = {"exclude_fields": "new_members,updated_members"} if lean else {}
    bodies = [subscribe_body(start, members) for start in range(0, members, CALL_SIZE)]

    def send(body: bytes) -> int:
        response = requests.post(
            endpoint,
            data=body,
            params=query,
            auth=("bench", key),
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        response.raise_for_status()
        result = response.json()
        return int(result["total_created"]) + int(result["total_updated"])

    return timed_rate(members, lambda: run_parallel(send, bodies, members))


def subscribe_body(start: int, members: int) -> bytes:
    entries = [
        {
            "email_address": address(n),
            "status": "subscribed",
            "merge_fields": {"FNAME": f"First{n}", "LNAME": f"Last{n}"},
        }
        for n in range(start, min(start + CALL_SIZE, members))
    ]
    return json.dumps({"members": entries, "update_existing": True}).encode()


def batches_rate(url: str, members: int) -> float:
    control = SandboxControl(url)
    key = control.add_account()
    audience_id = control.add_audience(key, "Batches")
    base = api_base(url, key)

    def operation(n: int) -> dict[str, str]:
        body = {"email_address": address(n), "status_if_new": "subscribed"}
        return {
            "method": "PUT",
            "path": f"lists/{audience_id}/members/{subscriber_hash(address(n))}",
            "operation_id": address(n),
            "body": json.dumps(body),
        }

    def submit_and_wait() -> None:
        batch_ids = []
        for start in range(0, members, OPERATIONS_PER_BATCH):
            ops = [operation(n) for n in range(start, min(start + OPERATIONS_PER_BATCH, members))]
            response = requests.post(
                f"{base}batches", json={"operations": ops}, auth=("bench", key), timeout=120
            )
            response.raise_for_status()
            batch_ids.append(response.json()["id"])
        for batch_id in batch_ids:
            wait_finished(f"{base}batches/{batch_id}", key)

    return timed_rate(members, submit_and_wait)


def wait_finished(batch_url: str, key: str) -> None:
    while requests.get(batch_url, auth=("bench", key), timeout=30).json()["status"] != "finished":
        time.sleep(0.1)


def run_parallel(send: Callable[[bytes], int], bodies: list[bytes], expected: int) -> None:
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        done = sum(pool.map(send, bodies))
    if done != expected:
        raise RuntimeError(f"{done} of {expected} members were written")


def timed_rate(count: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def prefill(data: str, size: int) -> tuple[str, str, float]:
    """A 1M audience written straight into the data file, before the server opens it."""
    with SandboxData(data) as sandbox:
        key = sandbox.add_account()
        audience_id = sandbox.add_audience(key, "Deep")
        rows = ({"email_address": address(n), "merge_fields": {"FNAME": "A"}} for n in range(size))
        started = time.perf_counter()
        sandbox.bulk_load_members(audience_id, rows)
        elapsed = time.perf_counter() - started
    return key, audience_id, elapsed


def deep_page_ms(
    url: str, key: str, audience_id: str, offset: int, count: int, fields: str = ""
) -> float:
    """Median of five reads, client parsing included."""
    endpoint = f"{api_base(url, key)}lists/{audience_id}/members"
    query = {"offset": offset, "count": count, **({"fields": fields} if fields else {})}
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        response = requests.get(endpoint, params=query, auth=("bench", key), timeout=30)
        page = response.json()
        timings.append((time.perf_counter() - started) * 1000)
        if page["members"][0]["email_address"] != address(offset):
            raise RuntimeError("the deep page starts at the wrong member")
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--deep", type=int, default=1_000_000)
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "bench.sqlite3")
        for label, where in (("in-memory", ":memory:"), ("file, WAL", data)):
            with sandbox_process(where) as url:
                for lean, answer in ((False, "full answer"), (True, "counts only")):
                    rate = batch_subscribe_rate(url, args.members, lean=lean)
                    rows.append((f"batch subscribe ({label}, {answer}), members/s", f"{rate:,.0f}"))
        with sandbox_process(":memory:") as url:
            rate = batches_rate(url, args.members)
            rows.append(("/batches PUT operations (in-memory), members/s", f"{rate:,.0f}"))
        key, audience_id, fill_seconds = prefill(data, args.deep)
        rows.append((f"bulk pre-fill of {args.deep:,} members, s", f"{fill_seconds:.1f}"))
        offset = args.deep - 1000
        with sandbox_process(data) as url:
            for count in (10, 500, 1000):
                ms = deep_page_ms(url, key, audience_id, offset, count)
                rows.append((f"page at offset {offset:,}, count {count}, ms", f"{ms:.1f}"))
            ms = deep_page_ms(url, key, audience_id, offset, 1000, PROJECTION)
            rows.append((f"same, count 1000, fields={PROJECTION}, ms", f"{ms:.1f}"))
    width = max(len(label) for label, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    print(f"(target: at least {TARGET_PER_SECOND:,} members/s through batch subscribe)")


if __name__ == "__main__":
    main()
