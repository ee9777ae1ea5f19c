"""The /batches processor: one background thread running batches in submission order
through `dispatch`, the same code path as direct calls, and packing results as Mailchimp
does (a .tar.gz of JSON files of `{status_code, operation_id, response}` entries).
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import threading
import time
from typing import TYPE_CHECKING, Any

from mcbridge_sandbox import problems
from mcbridge_sandbox.api.call import ApiCall, decode_json, problem_result
from mcbridge_sandbox.api.routing import dispatch
from mcbridge_sandbox.keys import new_id
from mcbridge_sandbox.models import Account, Batch

if TYPE_CHECKING:
    from mcbridge_sandbox.runtime import SandboxRuntime

log = logging.getLogger(__name__)

RESULTS_PER_FILE = 500
PROGRESS_EVERY = 50
IDLE_POLL_SECONDS = 0.5


class BatchProcessor:
    def __init__(self, runtime: SandboxRuntime, step_seconds: float = 0.0) -> None:
        self.runtime = runtime
        self.step_seconds = step_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-batches", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def pause(self) -> None:
        """Hold batches unfinished until `resume`: new ones stay pending (so tests can see
        that state and fill the queue), one under way stops before its next operation."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            job = self.runtime.store.batches.next_pending() if self._running.is_set() else None
            if job is None:
                self._wake.wait(IDLE_POLL_SECONDS)
                self._wake.clear()
                continue
            try:
                self._process(*job)
            except Exception:
                log.exception("batch %s failed", job[0].id)

    def _process(self, batch: Batch, operations: list[dict[str, Any]]) -> None:
        store = self.runtime.store
        account = store.accounts.by_id(batch.account_id)
        if account is None:
            return
        self._step(batch.id, "preprocessing")
        self._step(batch.id, "started")
        results: list[dict[str, Any]] = []
        errored = 0
        for done, operation in enumerate(operations, start=1):
            if not self._wait_while_paused():
                return
            result = self._execute(account, batch.id, operation)
            results.append(result)
            errored += result["status_code"] >= 400
            if done % PROGRESS_EVERY == 0 or done == len(operations):
                if not store.batches.exists(batch.id):
                    return
                store.batches.progress(batch.id, done, errored)
        self._step(batch.id, "finalizing")
        store.batches.finish(batch.id, results_archive(results), self.runtime.clock.iso_now())

    def _wait_while_paused(self) -> bool:
        """False when the processor stops meanwhile."""
        while not self._running.wait(IDLE_POLL_SECONDS):
            if self._stopping.is_set():
                return False
        return True

    def _step(self, batch_id: str, status: str) -> None:
        self.runtime.store.batches.set_status(batch_id, status, self.runtime.clock.iso_now())
        if self.step_seconds:
            time.sleep(self.step_seconds)

    def _execute(
        self, account: Account, batch_id: str, operation: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            body = decode_json(operation["body"])
        except problems.ApiError as problem:
            outcome = problem_result(problem)
        else:
            outcome = dispatch(
                ApiCall(
                    runtime=self.runtime,
                    account=account,
                    method=operation["method"],
                    path="/" + operation["path"].lstrip("/"),
                    query={k: str(v) for k, v in operation["params"].items()},
                    body=body,
                    root_url=self.runtime.public_url,
                    batch_id=batch_id,
                )
            )
        return {
            "status_code": outcome.status,
            "operation_id": operation["operation_id"],
            "response": "" if outcome.body is None else json.dumps(outcome.body),
        }


def results_archive(results: list[dict[str, Any]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for start in range(0, max(len(results), 1), RESULTS_PER_FILE):
            content = json.dumps(results[start : start + RESULTS_PER_FILE]).encode("utf-8")
            entry = tarfile.TarInfo(f"{new_id(32)}.json")
            entry.size = len(content)
            entry.mtime = int(time.time())
            archive.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()
