"""Measuring commands in processes of their own: wall time, CPU time, peak RSS."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Usage:
    wall: float
    cpu: float
    rss_mb: float
    output: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measured(commands: list[list[str]], env: dict[str, str], quiet: bool = False) -> Usage:
    """Run the commands at once and wait for all: wall time of the whole, CPU time summed,
    the largest peak RSS of any one process, and what they printed (`quiet`: their
    standard error is dropped)."""
    started = time.perf_counter()
    # Each process prints into a file of its own, not a pipe: a pipe read one process
    # after the other blocks the others once they print more than its buffer holds (RQ
    # workers log every job), and they would stop working until the first one ends.
    with ExitStack() as stack:
        files = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in commands]
        return run_all(commands, env, quiet, files, started)


def run_all(
    commands: list[list[str]],
    env: dict[str, str],
    quiet: bool,
    files: list[IO[str]],
    started: float,
) -> Usage:
    """`measured`'s processes, each printing into its file, read once it has ended."""
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=file,
            stderr=subprocess.DEVNULL if quiet else None,
            text=True,
        )
        for command, file in zip(commands, files, strict=True)
    ]
    cpu, rss, outputs = 0.0, 0.0, []
    for command, process, file in zip(commands, processes, files, strict=True):
        _, status, usage = os.wait4(process.pid, 0)
        file.seek(0)
        outputs.append(file.read())
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise RuntimeError(f"{' '.join(command)} failed:\n{outputs[-1]}")
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
    return Usage(time.perf_counter() - started, cpu, rss, "".join(outputs))
