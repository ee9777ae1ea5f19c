"""Every benchmark in one command: the export scenarios (bench.run), pages, search, the CSV
download at each size (each size in a database of its own), then twenty concurrent views,
many lists and the webhook burst, on each database chosen; each tool's output
under a heading with the machine line, gathered in bench/results/all-<sizes>-<database>.md.

    .venv/bin/python -m bench.all [--people 100000,1000000] [--database sqlite,postgresql]
                                  [--dry-run]

Each tool runs in its own process, one after the other, as it would from the shell; the
results file is written again after each, so hours of measures survive a later failure.
Takes hours at 1,000,000 people. Never run by CI.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import csv_download, pages, search
from bench.postgres import ensure_database
from bench.processes import ROOT
from bench.run import BENCH_POSTGRES, machine

DATABASES = ("sqlite", "postgresql")
# Tools that build an organisation once and reuse it: bench.all gives each size its own
# database (or SQLite file), so that a later size is not measured on an earlier one's.
PER_SIZE = {"pages": pages.WORKDIR, "search": search.WORKDIR, "csv_download": csv_download.WORKDIR}


def organisation_url(tool: str, people: str, database: str) -> str:
    if database == "postgresql":
        return f"{BENCH_POSTGRES.rsplit('/', 1)[0]}/mcbridge_{tool}_{people}"
    PER_SIZE[tool].mkdir(exist_ok=True)
    return f"sqlite:///{PER_SIZE[tool] / f'{tool}-{people}.sqlite3'}"


@dataclass(frozen=True)
class Step:
    tool: str
    arguments: list[str]

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", self.tool, *self.arguments]

    @property
    def shown(self) -> str:
        """The command as typed from the project's root."""
        return shlex.join(["python", "-m", self.tool, *self.arguments])


def steps(sizes: list[str], database: str) -> list[Step]:
    """Every tool at every size on one database, the smaller sizes first; then those whose
    size is their own and that run once: twenty concurrent views of bench.pages' big list,
    1,000 lists of 1,000 on three workers, the webhook burst."""
    chosen = ["--database", database]
    per_size = [
        step
        for people in sizes
        for step in (
            Step("bench.run", ["--people", people, *chosen]),
            *(
                Step(f"bench.{tool}", [*chosen, "--people", people, "--url", url])
                for tool in PER_SIZE
                for url in [organisation_url(tool, people, database)]
            ),
        )
    ]
    once = [
        Step("bench.concurrent_views", chosen),
        Step("bench.many_lists", chosen),
        Step("bench.webhooks", chosen),
    ]
    return [*per_size, *once]


def heading(step: Step) -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    started = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return f"## `{step.shown}`\n\n{machine()}, started {started}, load {load}\n"


def execute(step: Step) -> str:
    """Run one tool, its output shown as it comes (standard error straight to the terminal)
    and returned under its heading; a failure is noted and the next tool runs anyway."""
    section = heading(step)
    print(section, flush=True)
    lines: list[str] = []
    with subprocess.Popen(step.command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    failed = f"\n**Exited with status {process.returncode}.**\n" if process.returncode else ""
    return f"{section}\n{''.join(lines)}{failed}"


def prepare_postgres(sizes: list[str], dry_run: bool) -> None:
    """The databases the tools expect to exist: bench.run's, and one per tool and size for
    those that keep their organisation (bench.webhooks and bench.many_lists create theirs,
    bench.concurrent_views uses bench.pages' own)."""
    urls = [organisation_url(tool, people, "postgresql") for people in sizes for tool in PER_SIZE]
    for url in [BENCH_POSTGRES, pages.POSTGRES, *urls]:
        name = url.rsplit("/", 1)[1]
        if dry_run:
            print(f"# would create the PostgreSQL database {name} unless it exists")
        elif ensure_database(url):
            print(f"created the PostgreSQL database {name}")


def results_path(sizes: list[str], database: str) -> Path:
    return ROOT / "bench" / "results" / f"all-{','.join(sizes)}-{database}.md"


def run_database(sizes: list[str], database: str, dry_run: bool) -> None:
    """Every step on one database, the combined markdown rewritten after each."""
    if database == "postgresql":
        prepare_postgres(sizes, dry_run)
    path = results_path(sizes, database)
    if dry_run:
        for step in steps(sizes, database):
            print(step.shown)
        print(f"# would write {path.relative_to(ROOT)}\n")
        return
    path.parent.mkdir(exist_ok=True)
    title = f"# Every benchmark, {', '.join(sizes)} people, {database}, {machine()}\n"
    sections = [title]
    for step in steps(sizes, database):
        sections.append(execute(step))
        path.write_text("\n".join(sections))
    print(f"\nwritten to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--people", default="100000,1000000", help="sizes, comma-separated: 100000,1000000"
    )
    parser.add_argument(
        "--database",
        default=",".join(DATABASES),
        help="sqlite, postgresql or both, comma-separated",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    given = parser.parse_args()
    databases = given.database.split(",")
    unknown = set(databases) - set(DATABASES)
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    for database in databases:
        run_database(given.people.split(","), database, given.dry_run)


if __name__ == "__main__":
    main()
