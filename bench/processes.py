"""Measuring commands in processes of their own: wall time, CPU time, peak RSS."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

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
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None,
            text=True,
        )
        for command in commands
    ]
    cpu, rss, outputs = 0.0, 0.0, []
    for command, process in zip(commands, processes, strict=True):
        outputs.append(process.stdout.read() if process.stdout else "")
        _, status, usage = os.wait4(process.pid, 0)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise RuntimeError(f"{' '.join(command)} failed:\n{outputs[-1]}")
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
    return Usage(time.perf_counter() - started, cpu, rss, "".join(outputs))
