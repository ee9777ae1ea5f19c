"""The Mailchimp sandbox in its own process, as bench.run starts it, whose connection
limiter also records the most calls it held at once for any account.

    python -m bench.sandbox_peak --port PORT --data FILE --peaks FILE

Why not the request log: it stamps each call's end to the whole second, too coarse to
tell which calls of a few milliseconds overlapped; the limiter sees every slot taken and
given back. The peaks file is rewritten whenever a peak rises; SIGUSR1 starts the count
afresh (a benchmark's warm-up must not count in the peak of its measured step).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from mcbridge_sandbox.concurrency import InFlightLimiter
from mcbridge_sandbox.server import SandboxServer


class PeakLimiter(InFlightLimiter):
    """Mailchimp's cap as the sandbox enforces it, plus the highest number of slots one
    account held at once, written to `peaks` as {account id: peak}."""

    def __init__(self, peaks: Path) -> None:
        super().__init__()
        self.peaks_file = peaks
        self.peaks: Counter[int] = Counter()
        self._write = threading.Lock()
        self.reset()

    @contextmanager
    def slot(self, account_id: int) -> Iterator[None]:
        with super().slot(account_id):
            self.note(account_id)
            yield

    def note(self, account_id: int) -> None:
        """Read the slots held under the limiter's own lock, so no two calls miss each
        other; write outside it, and only when the peak rose."""
        with self._lock:
            held = self._in_flight[account_id]
            rose = held > self.peaks[account_id]
            if rose:
                self.peaks[account_id] = held
        if rose:
            self.write()

    def write(self) -> None:
        with self._write:
            snapshot = {str(account): peak for account, peak in self.peaks.items()}
            self.peaks_file.write_text(json.dumps(snapshot))

    def reset(self, _signal: int = 0, _frame: FrameType | None = None) -> None:
        with self._lock:
            self.peaks.clear()
        self.write()


def read_peak(peaks: Path) -> int:
    """The highest peak any account reached since the last reset."""
    return max(json.loads(peaks.read_text()).values(), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--peaks", type=Path, required=True)
    args = parser.parse_args()
    server = SandboxServer("127.0.0.1", args.port, args.data)
    limiter = PeakLimiter(args.peaks)
    server.runtime.limiter = limiter
    signal.signal(signal.SIGUSR1, limiter.reset)
    server.serve_forever()


if __name__ == "__main__":
    main()
