"""Export benchmarks: mcbridge against the local Mailchimp sandbox, each step measured in
its own processes (wall time, CPU time, peak RSS, API calls by kind).

    .venv/bin/python -m bench.run --people 100000,1000000 [--database postgresql]
                                  [--audience empty|exported] [--scenarios …]

Never run by CI: it takes minutes and writes a table to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcbridge_sandbox import SandboxControl
from sqlalchemy import func, select, text

from bench import filters
from bench.absorption import Absorbed, read_back
from bench.audience import STATES, prefill
from bench.organisation import build, build_regional_lists
from bench.processes import ROOT, Usage, free_port, measured
from mcbridge import create_app
from mcbridge.admin.mailchimp_link import forget_audience_copy
from mcbridge.connections import add_connection, link, store_audiences
from mcbridge.extensions import db
from mcbridge.jobs import enqueue_sync
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import AudienceInfo
from mcbridge.mailchimp.keys import datacenter, subscriber_hash
from mcbridge.models import AudienceMember, MailingList, Person, SyncRun

BENCH_REDIS = "redis://127.0.0.1:6379/14"
BENCH_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_bench"
BENCH_KEY = "0123456789abcdef0123456789abcdef-us1"
LATENCY_MS = 300
# Mailchimp-like latency: a call takes 300 ms plus 2 ms for each member in it.
MODEL_MS, MODEL_PER_MEMBER_MS, MODEL_CONNECTIONS = 300, 2, 10
MODEL_TARGET = 1.25
ABSORPTION_TARGET = 0.9
ABSORPTION_REPEATS = 3
LISTS = 50
LIST_WORKERS = (1, 3)
ALL_SCENARIOS = (
    "resolve",
    "resolve-filtered",
    "initial",
    "absorption",
    "read-back",
    "unchanged",
    "changed",
    "repeat",
    "mailchimp-change",
    "latency",
    "latency-model",
    "lists",
)
FLASK = [sys.executable, "-m", "flask", "mcbridge"]


@dataclass
class Measure:
    scenario: str
    wall: float
    cpu: float | None
    rss_mb: float | None
    reads: int | None = None
    writes: int | None = None
    state: str = ""
    note: str = ""


class Bench:
    def __init__(
        self,
        people: int,
        database: str,
        audience: str,
        workdir: Path,
        *,
        postgres_url: str = BENCH_POSTGRES,
        redis_url: str = BENCH_REDIS,
    ) -> None:
        """`postgres_url`, `redis_url`: another benchmark's own database and Redis DB, so
        that it never shares state with this one."""
        self.people = people
        self.audience_state = audience
        self.workdir = workdir
        self.redis_url = redis_url
        self.database_url = (
            postgres_url if database == "postgresql" else f"sqlite:///{workdir / 'bench.sqlite3'}"
        )
        self.port = free_port()
        self.sandbox_process: subprocess.Popen[bytes] | None = None
        self.control = SandboxControl(f"http://127.0.0.1:{self.port}")
        self.api_base_url = f"http://127.0.0.1:{self.port}/{{dc}}/3.0/"
        self.app = create_app(
            {
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "SECRET_KEY": "bench",
                "MAILCHIMP_API_BASE_URL": self.api_base_url,
            }
        )
        self.list_id = 0
        self.audience = ""
        self.initial_wall: float | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "bench",
            "MAILCHIMP_API_BASE_URL": self.api_base_url,
            "FLASK_APP": "wsgi",
        }

    def prepare(self) -> float:
        """The organisation, and its list's audience in the chosen state; before the
        sandbox starts, which then serves that audience."""
        with self.app.app_context():
            self.app.extensions["mcbridge"].redis.flushdb()
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            built = build(self.people)
            self.list_id = built.mailing_list_id
            mailing_list = db.session.get(MailingList, self.list_id)
            self.audience = prefill(
                str(self.workdir / "sandbox.sqlite3"),
                BENCH_KEY,
                f"Benchmark ({self.audience_state})",
                self.audience_state,
                mailing_list,
            )
            self.link(mailing_list, self.audience)
            return built.seconds

    def sandbox_command(self) -> list[str]:
        """The sandbox's own process, on its own port and data file."""
        data = str(self.workdir / "sandbox.sqlite3")
        return [sys.executable, "-m", "mcbridge_sandbox", "--port", str(self.port), "--data", data]

    def start_sandbox(self) -> None:
        self.sandbox_process = subprocess.Popen(
            self.sandbox_command(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                self.control.now()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        if self.sandbox_process is not None:
            self.sandbox_process.terminate()
            self.sandbox_process.wait()

    def link(self, mailing_list: MailingList, audience: str) -> None:
        """Linked as a leader would, to an audience mcbridge has not read yet."""
        forget_audience_copy(mailing_list)
        connection = mailing_list.connection or add_connection(
            "bench", BENCH_KEY, [mailing_list.group]
        )
        store_audiences(connection, [AudienceInfo(audience, "bench", 0)])
        link(mailing_list, next(a for a in connection.audiences if a.audience_id == audience))
        mailing_list.consent_at = datetime.now(UTC).replace(tzinfo=None)
        db.session.commit()

    def sync(self, scenario: str, connections: int = 10) -> Measure:
        env = {**self.env(), "MAILCHIMP_MAX_CONNECTIONS": str(connections)}
        usage = measured([[*FLASK, "sync", str(self.list_id), "--json"]], env)
        summary = json.loads(usage.output)
        counts = {name: value for name, value in summary["counts"].items() if value}
        note = ", ".join(f"{name} {value}" for name, value in counts.items())
        if scenario == "initial":
            self.initial_wall = usage.wall
        return self.measure(scenario, usage, summary["calls"], summary["state"], note)

    def absorption(self) -> Measure:
        """The sandbox alone on the initial export's own calls (bench.absorption), against
        the initial export measured before it in the same run."""
        command = [sys.executable, "-m", "bench.absorption", str(self.list_id)]
        command += [str(MODEL_CONNECTIONS), str(ABSORPTION_REPEATS)]
        answer = json.loads(measured([command], self.env()).output)
        result = Absorbed(answer["members"], answer["calls"], tuple(answer["seconds"]))
        each = ", ".join(f"{seconds:.1f}" for seconds in result.seconds)
        note = (
            f"{result.members} members in {result.calls} calls, median of {each} s: "
            f"{result.per_second:,.0f} members/s"
        )
        if self.initial_wall:
            ratio = result.median / self.initial_wall
            note += (
                f"; the initial export took {self.initial_wall:.1f} s: "
                f"absorption {ratio:.2f} (target {ABSORPTION_TARGET})"
            )
        scenario = "the sandbox alone, the initial export's calls"
        return Measure(scenario, result.median, None, None, note=note)

    @staticmethod
    def measure(
        scenario: str, usage: Usage, calls: dict[str, int], state: str, note: str
    ) -> Measure:
        reads, writes = calls["read"], calls["write"]
        return Measure(scenario, usage.wall, usage.cpu, usage.rss_mb, reads, writes, state, note)

    def read_back(self) -> Measure:
        """The sandbox serving the whole audience alone, as the first unchanged run after a
        large export reads it back (bench.absorption.read_back)."""
        base = self.api_base_url.format(dc=datacenter(BENCH_KEY))
        seconds = read_back(base, BENCH_KEY, self.audience, MODEL_CONNECTIONS)
        note = (
            f"every member served in pages of 1,000, {MODEL_CONNECTIONS} at a time, "
            "the client only decoding"
        )
        return Measure("the sandbox alone, serving the audience", seconds, None, None, note=note)

    def resolve(self, scenario: str = "resolve") -> Measure:
        usage = measured([[sys.executable, "-m", "bench.resolve", str(self.list_id)]], self.env())
        return Measure(scenario, usage.wall, usage.cpu, usage.rss_mb, note=usage.output.strip())

    def resolve_filtered(self) -> Measure:
        """Resolve with a tag requirement, filters and a preferred label on; then off."""
        with self.app.app_context():
            filters.switch_on(self.list_id)
        try:
            return self.resolve("resolve, tags and filters on")
        finally:
            with self.app.app_context():
                filters.switch_off(self.list_id)

    def change_people(self, how_many: int) -> None:
        with self.app.app_context():
            db.session.execute(
                text(
                    f"UPDATE {Person.__tablename__} SET last_name = last_name || 'x' "
                    "WHERE id % :step = 0"
                ),
                {"step": max(self.people // how_many, 1)},
            )
            db.session.commit()

    def mailchimp_change(self) -> Measure:
        """A recipient unsubscribes in Mailchimp between two runs: the next run reads only
        what changed, and still keeps them unsubscribed."""
        with self.app.app_context():
            email = db.session.scalar(
                select(AudienceMember.email)
                .where(
                    AudienceMember.mailing_list_id == self.list_id,
                    AudienceMember.status == "subscribed",
                    AudienceMember.managed.is_(True),
                )
                .limit(1)
            )
        self.control.simulate_unsubscribe(self.audience, email)
        measure = self.sync("an unsubscribe made in Mailchimp")
        measure.note += f"; {email} is {self.status_in_mailchimp(email)} in Mailchimp"
        return measure

    def status_in_mailchimp(self, email: str) -> str:
        """Asked through the API, as anyone would: the audience is too large to list."""
        with self.app.app_context():
            client = connect(BENCH_KEY)
            try:
                member = client.lists.members.get(
                    self.audience, subscriber_hash(email), fields="status"
                )
            finally:
                client.close()
        return str(member["status"])

    def latency(self, connections: int) -> Measure:
        """A fresh audience with 300 ms added to every request, at the given number of
        simultaneous connections (10 is Mailchimp's cap; 1 is one request at a time)."""
        with self.app.app_context():
            audience = self.control.add_audience(BENCH_KEY, f"Latency, {connections}")
            self.link(db.session.get(MailingList, self.list_id), audience)
        self.control.add_latency(LATENCY_MS, api_key=BENCH_KEY)
        try:
            return self.sync(f"300 ms latency, {connections} connection(s)", connections)
        finally:
            self.control.clear_faults()

    def latency_model(self) -> Measure:
        """The initial export to a fresh audience under the Mailchimp-like model, at 10
        connections, against the bound that model allows (`latency_bound`, read from the
        sandbox's request log of the run)."""
        with self.app.app_context():
            audience = self.control.add_audience(BENCH_KEY, "Latency model")
            self.link(db.session.get(MailingList, self.list_id), audience)
        self.control.clear_requests()
        self.control.add_latency(MODEL_MS, per_member_ms=MODEL_PER_MEMBER_MS, api_key=BENCH_KEY)
        try:
            measure = self.sync(
                f"{MODEL_MS} ms + {MODEL_PER_MEMBER_MS} ms a member, "
                f"{MODEL_CONNECTIONS} connections",
                MODEL_CONNECTIONS,
            )
        finally:
            self.control.clear_faults()
        calls = self.control.requests(api_key=BENCH_KEY)
        bound = latency_bound(calls, MODEL_CONNECTIONS)
        as_logged = latency_bound(calls, MODEL_CONNECTIONS, logged_ms)
        ratio = measure.wall / bound
        verdict = "within" if ratio <= MODEL_TARGET else "beyond"
        measure.note += (
            f"; {call_sizes(calls)}, {busy_connections(calls):.1f} connections busy on "
            f"average while writing; bound {bound:.1f} s ({as_logged:.1f} s as the calls "
            f"took), wall / bound {ratio:.2f} ({verdict} the {MODEL_TARGET} target)"
        )
        return measure

    def regional_lists(self) -> list[MailingList]:
        """The regional lists, built on first use."""
        others = select(MailingList).where(MailingList.id != self.list_id)
        lists = list(db.session.scalars(others))
        if not lists:
            build_regional_lists(LISTS)
            lists = list(db.session.scalars(others))
        return lists

    def many_lists(self, workers: int, latency_ms: int) -> Measure:
        """Initial exports of LISTS regional lists, each to a fresh audience, queued at once
        and run by `workers` RQ worker processes."""
        with self.app.app_context():
            lists = self.regional_lists()
            for mailing_list in lists:
                self.link(mailing_list, self.control.add_audience(BENCH_KEY, mailing_list.name))
            first_run = db.session.scalar(select(func.max(SyncRun.id))) or 0
            for mailing_list in lists:
                enqueue_sync(mailing_list, trigger="manual")
        if latency_ms:
            self.control.add_latency(latency_ms, api_key=BENCH_KEY)
        try:
            usage = measured([[*FLASK, "worker", "--burst"]] * workers, self.env(), quiet=True)
        finally:
            self.control.clear_faults()
        with self.app.app_context():
            runs = list(db.session.scalars(select(SyncRun).where(SyncRun.id > first_run)))
            busy = sum((run.finished_at - run.started_at).total_seconds() for run in runs)
            states = sorted({run.state for run in runs})
            reads = sum(run.read_calls for run in runs)
            writes = sum(run.write_calls for run in runs)
            added = sum(run.added for run in runs)
        scenario = f"{len(runs)} lists, {workers} worker(s), {latency_ms} ms latency"
        note = f"added {added}; exports' own time summed {busy:.1f} s"
        calls = {"read": reads, "write": writes}
        return self.measure(scenario, usage, calls, "/".join(states), note)


def modelled_ms(call: dict[str, Any]) -> float:
    """What the latency model alone makes a call wait."""
    return MODEL_MS + MODEL_PER_MEMBER_MS * int(call["members"])


def logged_ms(call: dict[str, Any]) -> float:
    """What a call took in the sandbox: more than the model when the sandbox's own work,
    on this shared machine, took longer."""
    return float(call["duration_ms"])


def latency_bound(
    calls: list[dict[str, Any]],
    connections: int,
    cost: Callable[[dict[str, Any]], float] = modelled_ms,
) -> float:
    """The seconds no export can beat under the model: the reads before the first write,
    one after the other (what the export writes depends on them), for as long as they
    took; then every later call's `cost`, shared among the connections."""
    first_write = first_write_of(calls)
    serial_ms = sum(logged_ms(call) for call in calls[:first_write])
    parallel_ms = sum(cost(call) for call in calls[first_write:]) / connections
    return (serial_ms + parallel_ms) / 1000


def first_write_of(calls: list[dict[str, Any]]) -> int:
    return next((n for n, call in enumerate(calls) if call["method"] != "GET"), len(calls))


def busy_connections(calls: list[dict[str, Any]]) -> float:
    """Connections busy on average from the first write's start to the last call's end:
    below 10, the export did not keep them all working (the log's times are whole
    seconds: rough for a run shorter than a minute)."""
    writes = calls[first_write_of(calls) :]
    if not writes:
        return 0.0
    start = datetime.fromisoformat(writes[0]["at"]).timestamp() - logged_ms(writes[0]) / 1000
    end = datetime.fromisoformat(writes[-1]["at"]).timestamp()
    return sum(logged_ms(call) for call in writes) / 1000 / max(end - start, 1.0)


def call_sizes(calls: list[dict[str, Any]]) -> str:
    """How the calls were cut, to tell a batch size the model punishes."""
    writes = [int(call["members"]) for call in calls if call["method"] != "GET"]
    largest = max(writes, default=0)
    return f"{len(calls) - len(writes)} reads, {len(writes)} writes of ≤ {largest} members"


def faster(slow: Measure, fast: Measure, than: str) -> Measure:
    fast.note += f"; ×{slow.wall / fast.wall:.1f} faster than {than}"
    return fast


def latency_pair(bench: Bench) -> list[Measure]:
    serial = bench.latency(1)
    return [serial, faster(serial, bench.latency(10), "1 connection")]


def workers_compared(bench: Bench, latency_ms: int) -> list[Measure]:
    one, many = (bench.many_lists(count, latency_ms) for count in LIST_WORKERS)
    return [one, faster(one, many, "1 worker")]


def run(bench: Bench, scenarios: tuple[str, ...], report: Callable[[Measure], None]) -> None:
    first = "initial" if bench.audience_state == "empty" else "first, audience pre-filled"
    steps: dict[str, Callable[[], list[Measure]]] = {
        "resolve": lambda: [bench.resolve()],
        "resolve-filtered": lambda: [bench.resolve_filtered()],
        "initial": lambda: [bench.sync(first)],
        "absorption": lambda: [bench.absorption()],
        "read-back": lambda: [bench.read_back()],
        "unchanged": lambda: [bench.sync("unchanged")],
        "changed": lambda: (bench.change_people(1000), [bench.sync("1000 changed")])[1],
        "repeat": lambda: [bench.sync(f"unchanged, run {n}") for n in range(2, 7)],
        "mailchimp-change": lambda: [bench.mailchimp_change()],
        "latency": lambda: latency_pair(bench),
        "latency-model": lambda: [bench.latency_model()],
        "lists": lambda: workers_compared(bench, 0) + workers_compared(bench, LATENCY_MS),
    }
    for name in ALL_SCENARIOS:
        if name in scenarios:
            for measure in steps[name]():
                report(measure)


def table(rows: list[Measure]) -> str:
    lines = [
        "| scenario | wall s | CPU s | peak RSS MB | read calls | write calls | result |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        reads = "" if row.reads is None else row.reads
        writes = "" if row.writes is None else row.writes
        lines.append(
            f"| {row.scenario} | {row.wall:.1f} | {optional(row.cpu, '.1f')} | "
            f"{optional(row.rss_mb, '.0f')} | "
            f"{reads} | {writes} | {row.state} {row.note} |"
        )
    return "\n".join(lines)


def optional(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def report(rows: list[Measure], measure: Measure) -> None:
    rows.append(measure)
    print(table([measure]).splitlines()[-1], flush=True)


def machine() -> str:
    cpus = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpus} cores, {memory:.0f} GiB, Python {sys.version.split()[0]}"


def bench_size(people: int, database: str, audience: str, scenarios: tuple[str, ...]) -> None:
    """Every chosen scenario at one size, printed as it goes, then saved as a table."""
    workdir = Path(f"/tmp/mcbridge-bench-{people}-{database}-{audience}")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    bench = Bench(people, database, audience, workdir)
    rows: list[Measure] = []
    print(f"built {people} people in {bench.prepare():.0f} s", flush=True)
    bench.start_sandbox()
    try:
        run(bench, scenarios, lambda measure: report(rows, measure))
    finally:
        bench.stop()
    heading = (
        f"{people:,} people, {database}, audience {audience}, {machine()}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    result = f"### {heading}\n\n{table(rows)}\n"
    print("\n" + result)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"{people}-{database}-{audience}.md").write_text(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--people", default="100000", help="one size or several, comma-separated: 100000,1000000"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--audience", choices=STATES, default="empty")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    args = parser.parse_args()
    for people in args.people.split(","):
        bench_size(int(people), args.database, args.audience, tuple(args.scenarios.split(",")))


if __name__ == "__main__":
    main()
