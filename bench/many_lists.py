"""Many lists (issue 15): LISTS linked lists of about PEOPLE recipients each, all due at the
daily time, queued by the daily dispatcher and exported by 3 RQ workers that share one
Mailchimp key.

    .venv/bin/python -m bench.many_lists [--lists 1000] [--people-per-list 1000]
        [--database postgresql|sqlite] [--latency-ms 0 | --latency-model] [--wait-load 2]

Checks that every list is exported exactly once and that the workers together never held
more than 10 connections to the sandbox; reports the burst's wall time against the sum of
the exports' own durations, and one list exported alone before it. Never run by CI: the
full size takes many minutes. Writes bench/results/many-lists-<lists>x<people>-<db>.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from bench.organisation import build, build_mailing_list, build_regional_lists
from bench.postgres import ensure_database
from bench.processes import ROOT, Usage, measured
from bench.run import (
    BENCH_KEY,
    FLASK,
    MODEL_MS,
    MODEL_PER_MEMBER_MS,
    Bench,
    busy_connections,
    logged_ms,
    machine,
)
from bench.sandbox_peak import read_peak
from mcbridge.connections import add_connection
from mcbridge.extensions import db
from mcbridge.jobs import enqueue_sync
from mcbridge.models import Group, MailingList, RoleType, SyncRun
from mcbridge.schedule import dispatch_daily_exports

MANY_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_many_lists"
MANY_REDIS = "redis://127.0.0.1:6379/10"
WORKDIR = Path("/tmp/many_lists")
WORKERS = 3
CAP = 10
# One role per person and a tenth with a second: with the ended and future roles (7%)
# and those without an email (2%), a club of PEOPLE members has about PEOPLE recipients.
EXTRA_ROLES = 0.1
LOAD_POLL_SECONDS, LOAD_WAIT_SECONDS = 30, 600


@dataclass(frozen=True)
class Latency:
    """The sandbox's latency fault for the whole measurement: none, a fixed one, or the
    Mailchimp-like model (300 ms + 2 ms a member)."""

    ms: int = 0
    per_member_ms: int = 0

    def label(self) -> str:
        if self.per_member_ms:
            return f"{self.ms} ms + {self.per_member_ms} ms a member"
        return f"{self.ms} ms" if self.ms else "none"

    def suffix(self) -> str:
        if self.per_member_ms:
            return "-latency-model"
        return f"-latency-{self.ms}ms" if self.ms else ""


@dataclass(frozen=True)
class Single:
    """One list exported alone by one worker: the worker's wall time (start-up included)
    and the run's own duration."""

    wall: float
    own: float
    added: int
    state: str


@dataclass(frozen=True)
class Burst:
    dispatched: int
    dispatch_seconds: float
    usage: Usage
    load: str


@dataclass(frozen=True)
class Runs:
    """What the burst's runs say: each list's count of daily runs, their states, adds."""

    per_list: Counter[int]
    states: Counter[str]
    added: list[int]
    own_seconds: float
    reads: int
    writes: int
    others: int


class ManyLists(Bench):
    """The organisation, the sandbox and the lists of one measurement."""

    def __init__(self, lists: int, per_list: int, database: str, latency: Latency) -> None:
        if database == "postgresql":
            ensure_database(MANY_POSTGRES)
        super().__init__(
            lists * per_list,
            database,
            "empty",
            WORKDIR,
            postgres_url=MANY_POSTGRES,
            redis_url=MANY_REDIS,
        )
        self.lists, self.per_list, self.database = lists, per_list, database
        self.latency = latency
        self.peaks = WORKDIR / "peaks.json"
        self.club_ids: list[int] = []
        self.single_id = 0

    def sandbox_command(self) -> list[str]:
        """bench.run's sandbox, with a limiter that records its peak of calls in flight."""
        data = str(self.workdir / "sandbox.sqlite3")
        return [
            *[sys.executable, "-m", "bench.sandbox_peak", "--port", str(self.port)],
            *["--data", data, "--peaks", str(self.peaks)],
        ]

    def build_organisation(self) -> float:
        """One root and a club per list, each club with about `per_list` recipients, one
        list per club, and one more list on the first club for the single export."""
        with self.app.app_context():
            self.app.extensions["mcbridge"].redis.flushdb()
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            built = build(self.people, groups=self.lists + 1, depth=2, extra_roles=EXTRA_ROLES)
            self.club_ids = build_regional_lists(self.lists, level=1, kind="Club")
            role_types = list(db.session.scalars(select(RoleType.id)))
            first_club = db.session.get(MailingList, self.club_ids[0]).group_id
            self.single_id = build_mailing_list(first_club, role_types, "Single", everyone=False)
            db.session.commit()
            return built.seconds

    def link_all(self) -> float:
        """Every list to a fresh audience of its own, all through one connection (one key)
        given to the root group, consent recorded as a leader's link records it."""
        started = time.perf_counter()
        with self.app.app_context():
            root = db.session.scalar(select(Group).where(Group.parent_id.is_(None)))
            connection = add_connection("many lists", BENCH_KEY, [root])
            for list_id in [*self.club_ids, self.single_id]:
                mailing_list = db.session.get(MailingList, list_id)
                mailing_list.connection = connection
                self.link(mailing_list, self.control.add_audience(BENCH_KEY, mailing_list.name))
        return time.perf_counter() - started

    def add_latency(self) -> None:
        if self.latency.ms:
            self.control.add_latency(
                self.latency.ms, per_member_ms=self.latency.per_member_ms, api_key=BENCH_KEY
            )

    def reach_daily_time(self) -> str:
        """The daily time set to the next whole minute after the last link, and waited
        for: every list's consent then comes before the slot, so the dispatcher finds them
        all due as it would at 02:00 (a slot before a list was linked is not one it
        missed). Returns the daily time, HH:MM in the installation's zone."""
        zone = ZoneInfo(self.app.config["MCBRIDGE_TIMEZONE"])
        local = datetime.now(zone)
        slot = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
        self.app.config["MCBRIDGE_DAILY_SYNC_AT"] = f"{slot:%H:%M}"
        time.sleep(max((slot - datetime.now(zone)).total_seconds() + 1, 0))
        return f"{slot:%H:%M}"

    def export_single(self) -> Single:
        """The extra list on the first club, to its own fresh audience, alone: what one
        export costs, to compare the burst with. Run after the daily time, so the
        dispatcher does not find that list due."""
        with self.app.app_context():
            run = enqueue_sync(db.session.get(MailingList, self.single_id), trigger="manual")
            run_id = run.id
        usage = measured([[*FLASK, "worker", "--burst"]], self.env(), quiet=True)
        with self.app.app_context():
            run = db.session.get(SyncRun, run_id)
            return Single(usage.wall, own_seconds(run), run.added, run.state)

    def burst(self) -> Burst:
        """The daily dispatcher queues every due list, then the workers drain the queue;
        the sandbox's request log and peak start afresh first."""
        self.control.clear_requests()
        self.sandbox_process.send_signal(signal.SIGUSR1)
        with self.app.app_context():
            started = time.perf_counter()
            dispatched = len(dispatch_daily_exports())
            dispatch_seconds = time.perf_counter() - started
        load = uptime()
        usage = measured([[*FLASK, "worker", "--burst"]] * WORKERS, self.env(), quiet=True)
        return Burst(dispatched, dispatch_seconds, usage, load)

    def runs(self) -> Runs:
        """The daily runs, counted per list: the check that each was exported once."""
        with self.app.app_context():
            runs = list(db.session.scalars(select(SyncRun).where(SyncRun.trigger == "daily")))
            clubs = set(self.club_ids)
            others = db.session.scalar(
                select(func.count(SyncRun.id)).where(SyncRun.mailing_list_id != self.single_id)
            )
            return Runs(
                per_list=Counter(run.mailing_list_id for run in runs),
                states=Counter(run.state for run in runs),
                added=[run.added for run in runs if run.mailing_list_id in clubs],
                own_seconds=sum(own_seconds(run) for run in runs),
                reads=sum(run.read_calls for run in runs),
                writes=sum(run.write_calls for run in runs),
                others=int(others or 0) - len(runs),
            )


def own_seconds(run: SyncRun) -> float:
    """The export's own time, from its worker taking it to its record: no queueing."""
    if run.started_at is None or run.finished_at is None:
        return 0.0
    return (run.finished_at - run.started_at).total_seconds()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def wait_for_load(below: float) -> str:
    """Other benchmarks share this 2-core machine: wait (30 s polls, 10 minutes at most)
    until the 1-minute load is below `below`, then go ahead either way."""
    deadline = time.monotonic() + LOAD_WAIT_SECONDS
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        print(f"waiting for load < {below}: {uptime()}", flush=True)
        time.sleep(LOAD_POLL_SECONDS)
    return uptime()


def in_flight_from_log(calls: list[dict[str, Any]]) -> int:
    """The most calls in flight at once by the request log. The log stamps a call's end to
    the whole second and keeps calls in the order they ended, so the ends within one
    second are spread evenly across it: an estimate, to set beside the limiter's count."""
    by_second = Counter(call["at"] for call in calls)
    seen: Counter[str] = Counter()
    events: list[tuple[float, int]] = []
    for call in calls:
        seen[call["at"]] += 1
        second = datetime.fromisoformat(call["at"]).timestamp()
        end = second + seen[call["at"]] / (by_second[call["at"]] + 1)
        events += [(end - logged_ms(call) / 1000, 1), (end, -1)]
    held = peak = 0
    for _, step in sorted(events):
        held += step
        peak = max(peak, held)
    return peak


def verdict(runs: Runs, club_ids: list[int]) -> tuple[list[int], list[int]]:
    """Lists exported more than once, and lists not exported."""
    twice = sorted(list_id for list_id, count in runs.per_list.items() if count > 1)
    missing = sorted(set(club_ids) - set(runs.per_list))
    return twice, missing


def rows_of(bench: ManyLists, single: Single, burst: Burst, runs: Runs) -> list[tuple[str, str]]:
    calls = bench.control.requests(api_key=BENCH_KEY)
    twice, missing = verdict(runs, bench.club_ids)
    lists = len(bench.club_ids)
    wall = burst.usage.wall
    return [
        (
            "lists due, queued by the daily dispatcher",
            f"{burst.dispatched} of {lists} in {burst.dispatch_seconds:.1f} s",
        ),
        (
            "lists exported (daily runs)",
            f"{len(runs.per_list)} lists, {sum(runs.per_list.values())} runs",
        ),
        (
            "exported twice / missing",
            f"{len(twice)} / {len(missing)} {(twice + missing)[:10] or ''}",
        ),
        ("other runs in the burst", str(runs.others)),
        ("states", ", ".join(f"{state} {n}" for state, n in sorted(runs.states.items()))),
        (
            "members added",
            f"{sum(runs.added):,} (per list {min(runs.added, default=0)}–"
            f"{max(runs.added, default=0)}, mean {mean(runs.added or [0]):.0f})",
        ),
        (
            "API calls",
            f"{runs.reads} reads, {runs.writes} writes; {len(calls)} logged, "
            f"{sum(1 for call in calls if call['status'] == 429)} refused with 429",
        ),
        ("max calls in flight (sandbox limiter)", f"{read_peak(bench.peaks)} (cap {CAP})"),
        ("max calls in flight (request log, estimate)", str(in_flight_from_log(calls))),
        ("mean busy connections", f"{busy_connections(calls):.1f}"),
        (f"burst wall, {WORKERS} workers", f"{wall:.1f} s (CPU {burst.usage.cpu:.1f} s)"),
        (
            "sum of the runs' own durations",
            f"{runs.own_seconds:.1f} s (×{runs.own_seconds / wall:.2f} the wall)",
        ),
        (
            "single list alone, 1 worker",
            f"{single.wall:.1f} s wall, {single.own:.2f} s own "
            f"({single.state}, {single.added} added)",
        ),
        (
            f"{lists} × the single list",
            f"{lists * single.wall:.0f} s as its wall (worker start-up each time), "
            f"{lists * single.own:.0f} s as its own time",
        ),
        (
            "burst against them",
            f"×{lists * single.wall / wall:.1f} faster than one worker process a list; "
            f"×{lists * single.own / wall:.2f} the speed of back-to-back exports",
        ),
        (
            "per list in the burst",
            f"{wall / lists:.2f} s wall, {runs.own_seconds / lists:.2f} s own",
        ),
        ("load at the burst", burst.load),
    ]


def table(rows: list[tuple[str, str]]) -> str:
    lines = ["| measure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def measure(args: argparse.Namespace, latency: Latency) -> str:
    """Build, link, wait for the daily time, export one list alone, then the burst."""
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    bench = ManyLists(args.lists, args.people_per_list, args.database, latency)
    print(f"built {bench.people:,} people in {bench.build_organisation():.0f} s", flush=True)
    bench.start_sandbox()
    try:
        print(f"linked {args.lists + 1} lists in {bench.link_all():.0f} s", flush=True)
        if args.wait_load:
            print(wait_for_load(args.wait_load), flush=True)
        print(f"daily time {bench.reach_daily_time()} reached", flush=True)
        bench.add_latency()
        single = bench.export_single()
        print(f"single list: {single}", flush=True)
        burst = bench.burst()
        rows = rows_of(bench, single, burst, bench.runs())
    finally:
        bench.control.clear_faults()
        bench.stop()
    heading = (
        f"### {args.lists:,} lists × {args.people_per_list:,} people, {args.database}, "
        f"{WORKERS} workers, one key, latency {latency.label()}\n\n"
        f"{machine()}, {datetime.now():%Y-%m-%d}; `{' '.join(sys.argv)}`"
    )
    return f"{heading}\n\n{table(rows)}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lists", type=int, default=1000)
    parser.add_argument("--people-per-list", type=int, default=1000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--latency-ms", type=int, default=0, help="a fixed latency fault")
    parser.add_argument(
        "--latency-model", action="store_true", help="300 ms + 2 ms a member, as bench.run"
    )
    parser.add_argument(
        "--wait-load", type=float, default=0, help="wait for a 1-minute load below this"
    )
    args = parser.parse_args()
    model = Latency(MODEL_MS, MODEL_PER_MEMBER_MS) if args.latency_model else None
    latency = model or Latency(args.latency_ms)
    result = measure(args, latency)
    print("\n" + result)
    name = f"many-lists-{args.lists}x{args.people_per_list}-{args.database}{latency.suffix()}.md"
    (ROOT / "bench" / "results" / name).write_text(result)


if __name__ == "__main__":
    main()
