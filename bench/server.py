"""gunicorn serving the app for a benchmark, started exactly as the Procfile's web line
starts it, so that what is measured is what production runs (its workers and threads),
not Flask's test client. Used by bench.webhooks and bench.concurrent_views.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.processes import ROOT

ATTEMPTS = 300  # about 30 s for gunicorn to import the app and answer


def procfile_web() -> str:
    """The Procfile's web command, run as is: only its port comes from MCBRIDGE_PORT."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line for line in lines if line.startswith("web:")).removeprefix("web:").strip()


@contextmanager
def served(
    settings: dict[str, str],
    port: int,
    ready: str,
    log: Path,
    statuses: Collection[int] = (200,),
) -> Iterator[None]:
    """gunicorn serving the app on `port` until the block ends, configured by `settings`
    through the environment as a deployment would be, its output in `log`. The block
    starts once a GET of `ready` is answered with one of `statuses`."""
    env = {**os.environ, **settings, "MCBRIDGE_PORT": str(port)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with log.open("w") as output:
        server = subprocess.Popen(
            ["sh", "-c", f"exec {procfile_web()}"], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        try:
            wait_until_up(server, port, ready, log, statuses)
            yield
        finally:
            server.terminate()
            server.wait()


def wait_until_up(
    server: subprocess.Popen[bytes],
    port: int,
    ready: str,
    log: Path,
    statuses: Collection[int] = (200,),
) -> None:
    """Wait until a GET of `ready` is answered with one of `statuses`: gunicorn listens
    before its workers have imported the app, and a benchmark must not time that."""
    for _ in range(ATTEMPTS):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped:\n{log.read_text()}")
        if answers(port, ready, statuses):
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {port}:\n{log.read_text()}")


def answers(port: int, path: str, statuses: Collection[int]) -> bool:
    """Whether a GET of `path` is answered with one of `statuses` (not yet, if refused)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status in statuses
    except OSError:
        return False
    finally:
        connection.close()
