"""Export benchmarks: mcbridge against the local Mailchimp sandbox, each step measured in
its own process (wall time, CPU time, peak RSS, API calls by kind).

    .venv/bin/python -m bench.run --people 100000 [--database postgresql] [--scenarios …]

Never run by CI: it takes minutes and writes a table to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.organisation import build
from mcbridge import create_app
from mcbridge.extensions import db
from mcbridge.models import MailingList
from mcbridge.sandbox import SandboxControl

ROOT = Path(__file__).resolve().parent.parent

BENCH_REDIS = "redis://127.0.0.1:6379/14"
BENCH_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_bench"
LATENCY_MS = 300
ALL_SCENARIOS = ("resolve", "initial", "unchanged", "changed", "repeat", "latency")


@dataclass
class Measure:
    scenario: str
    wall: float
    cpu: float
    rss_mb: float
    reads: int | None = None
    writes: int | None = None
    state: str = ""
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run a command; (wall seconds, CPU seconds, peak RSS in MB, standard output)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} failed:\n{output}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output


class Bench:
    def __init__(self, people: int, database: str, workdir: Path) -> None:
        self.people = people
        self.workdir = workdir
        self.database_url = (
            BENCH_POSTGRES if database == "postgresql" else f"sqlite:///{workdir / 'bench.sqlite3'}"
        )
        self.port = free_port()
        self.sandbox_process: subprocess.Popen[bytes] | None = None
        self.control = SandboxControl(f"http://127.0.0.1:{self.port}")
        self.app = create_app({"DATABASE_URL": self.database_url, "SECRET_KEY": "bench"})
        self.key = ""
        self.list_id = 0

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": BENCH_REDIS,
            "SECRET_KEY": "bench",
            "MAILCHIMP_API_BASE_URL": f"http://127.0.0.1:{self.port}/{{dc}}/3.0/",
            "FLASK_APP": "wsgi",
        }

    def start_sandbox(self) -> None:
        data = self.workdir / "sandbox.sqlite3"
        command = [
            sys.executable,
            "-m",
            "mcbridge.sandbox",
            "--port",
            str(self.port),
            "--data",
            str(data),
        ]
        self.sandbox_process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.control.now()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("the sandbox did not start")

    def stop(self) -> None:
        if self.sandbox_process is not None:
            self.sandbox_process.terminate()
            self.sandbox_process.wait()

    def prepare(self) -> float:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                db.session.commit()
            built = build(self.people)
            self.list_id = built.mailing_list_id
            self.key = self.control.add_account()
            self.link(self.control.add_audience(self.key, "Benchmark"))
            return built.seconds

    def link(self, audience: str) -> None:
        with self.app.app_context():
            mailing_list = db.session.get(MailingList, self.list_id)
            mailing_list.mailchimp_api_key = self.key
            mailing_list.mailchimp_list_id = audience
            mailing_list.audience_changed_since = None
            mailing_list.consent_at = datetime.now(UTC).replace(tzinfo=None)
            db.session.commit()

    def sync(self, scenario: str, connections: int = 10) -> Measure:
        command = [sys.executable, "-m", "flask", "mcbridge", "sync", str(self.list_id), "--json"]
        env = {**self.env(), "MAILCHIMP_MAX_CONNECTIONS": str(connections)}
        wall, cpu, rss, output = measured(command, env)
        summary = json.loads(output)
        counts = {k: v for k, v in summary["counts"].items() if v}
        return Measure(
            scenario,
            wall,
            cpu,
            rss,
            summary["calls"]["read"],
            summary["calls"]["write"],
            summary["state"],
            ", ".join(f"{k} {v}" for k, v in counts.items()),
        )

    def resolve(self) -> Measure:
        command = [
            sys.executable,
            "-m",
            "flask",
            "mcbridge",
            "recipients",
            str(self.list_id),
            "--count",
        ]
        wall, cpu, rss, output = measured(command, self.env())
        return Measure("resolve", wall, cpu, rss, note=output.strip())

    def change_people(self, how_many: int) -> None:
        with self.app.app_context():
            db.session.execute(
                text("UPDATE people SET last_name = last_name || 'x' WHERE id % :step = 0"),
                {"step": max(self.people // how_many, 1)},
            )
            db.session.commit()

    def latency(self, connections: int) -> Measure:
        """A fresh audience with 300 ms added to every request, at the given number of
        simultaneous connections (10 is Mailchimp's cap; 1 is one request at a time)."""
        self.link(self.control.add_audience(self.key, f"Latency, {connections} connection(s)"))
        self.control.add_latency(LATENCY_MS, api_key=self.key)
        try:
            return self.sync(f"300 ms latency, {connections} connection(s)", connections)
        finally:
            self.control.clear_faults()


def speedup(serial: Measure, concurrent: Measure) -> Measure:
    """The concurrent run, noted with how much faster it was than one request at a time."""
    concurrent.note += f"; ×{serial.wall / concurrent.wall:.1f} faster than 1 connection"
    concurrent.extra = {"speedup": serial.wall / concurrent.wall}
    return concurrent


def run(bench: Bench, scenarios: tuple[str, ...], report: Callable[[Measure], None]) -> None:
    steps: dict[str, Callable[[], list[Measure]]] = {
        "resolve": lambda: [bench.resolve()],
        "initial": lambda: [bench.sync("initial")],
        "unchanged": lambda: [bench.sync("unchanged")],
        "changed": lambda: (bench.change_people(1000), [bench.sync("1000 changed")])[1],
        "repeat": lambda: [bench.sync(f"unchanged, run {n}") for n in range(2, 7)],
        "latency": lambda: (
            serial := bench.latency(1),
            [serial, speedup(serial, bench.latency(10))],
        )[1],
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
            f"| {row.scenario} | {row.wall:.1f} | {row.cpu:.1f} | {row.rss_mb:.0f} | "
            f"{reads} | {writes} | {row.state} {row.note} |"
        )
    return "\n".join(lines)


def report(rows: list[Measure], measure: Measure) -> None:
    rows.append(measure)
    print(table([measure]).splitlines()[-1], flush=True)


def machine() -> str:
    cpus = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpus} cores, {memory:.0f} GiB, Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    args = parser.parse_args()
    workdir = Path(f"/tmp/mcbridge-bench-{args.people}-{args.database}")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    bench = Bench(args.people, args.database, workdir)
    rows: list[Measure] = []
    bench.start_sandbox()
    try:
        print(f"built {args.people} people in {bench.prepare():.0f} s", flush=True)
        run(
            bench,
            tuple(args.scenarios.split(",")),
            lambda measure: report(rows, measure),
        )
    finally:
        bench.stop()
    heading = f"{args.people:,} people, {args.database}, {machine()}, {datetime.now(UTC):%Y-%m-%d}"
    result = f"### {heading}\n\n{table(rows)}\n"
    print("\n" + result)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"{args.people}-{args.database}.md").write_text(result)


if __name__ == "__main__":
    main()
