"""Every benchmark in one command: the export scenarios (bench.run), pages, search, the CSV
download at each size, then the webhook burst, on each database chosen; each tool's output
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
POSTGRES_URLS = (BENCH_POSTGRES, pages.POSTGRES, search.POSTGRES, csv_download.POSTGRES)
# Tools that build their organisation once, at the first size asked, and reuse it later
# whatever --people says (webhooks builds its own small one each run).
REUSES_ORGANISATION = {
    "bench.pages": "both databases",
    "bench.search": "both databases",
    "bench.csv_download": "PostgreSQL (SQLite keeps a file per size)",
}


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
    """Every tool at every size on one database, the smaller sizes first; the webhook burst
    does not depend on the organisation's size and runs once."""
    chosen = ["--database", database]
    per_size = [
        step
        for people in sizes
        for step in (
            Step("bench.run", ["--people", people, *chosen]),
            Step("bench.pages", [*chosen, "--people", people]),
            Step("bench.search", [*chosen, "--people", people]),
            Step("bench.csv_download", ["--people", people, *chosen]),
        )
    ]
    return [*per_size, Step("bench.webhooks", chosen)]


def reuse_note(step: Step) -> str:
    """Why a tool's figures at a later size may be those of an earlier one."""
    where = REUSES_ORGANISATION.get(step.tool)
    if where is None:
        return ""
    return f"reuses the organisation it built first, on {where}, whatever --people says"


def heading(step: Step) -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    started = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return f"## `{step.shown}`\n\n{machine()}, started {started}, load {load}\n"


def execute(step: Step) -> str:
    """Run one tool, its output shown as it comes (standard error straight to the terminal)
    and returned under its heading; a failure is noted and the next tool runs anyway."""
    note = reuse_note(step)
    section = heading(step) + (f"\n_{note.capitalize()}._\n" if note else "")
    print(section, flush=True)
    lines: list[str] = []
    with subprocess.Popen(step.command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    failed = f"\n**Exited with status {process.returncode}.**\n" if process.returncode else ""
    return f"{section}\n{''.join(lines)}{failed}"


def prepare_postgres(dry_run: bool) -> None:
    """The tools' own databases, which they expect to exist (bench.webhooks creates its
    own)."""
    for url in POSTGRES_URLS:
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
        prepare_postgres(dry_run)
    path = results_path(sizes, database)
    if dry_run:
        for step in steps(sizes, database):
            note = reuse_note(step)
            print(step.shown + (f"  # {note}" if note else ""))
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
