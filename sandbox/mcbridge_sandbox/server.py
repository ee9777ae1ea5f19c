"""Serving the sandbox over real HTTP with werkzeug's threaded server, either in a
background thread (tests, benchmarks) or in the foreground (the CLI).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mcbridge_sandbox.app import create_app
from mcbridge_sandbox.runtime import SandboxRuntime
from mcbridge_sandbox.webhooks import RETRY_DELAYS

POLL_SECONDS = 0.05


class SandboxRequestHandler(WSGIRequestHandler):
    def send_response(self, code: int, message: str | None = None) -> None:
        """Without the standard library's own Date header: the API sets Mailchimp's, by the
        sandbox's advanceable clock, and a second one (the wall clock) came first, so
        clients read the wrong time (or, both joined in one header, a time without its
        zone)."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


class QuietRequestHandler(SandboxRequestHandler):
    """Tests make thousands of requests; the request log already records them."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logging.getLogger("werkzeug").debug("%s %s %s", self.command, self.path, code)


class SandboxServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data: str = ":memory:",
        *,
        quiet: bool = True,
        webhook_retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.runtime = SandboxRuntime(data, webhook_retry_delays=webhook_retry_delays)
        self.app = create_app(self.runtime)
        self._server: BaseWSGIServer = make_server(
            host,
            port,
            self.app,
            threaded=True,
            request_handler=QuietRequestHandler if quiet else SandboxRequestHandler,
        )
        self.host = host
        self.port = self._server.server_port
        self.runtime.public_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """A template: clients fill `{dc}` from the key, as Mailchimp's hostnames do."""
        return f"{self.url}/{{dc}}/3.0/"

    def start(self) -> SandboxServer:
        self.runtime.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.runtime.start()
        try:
            self._server.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
            self._close()

    def _close(self) -> None:
        self._server.server_close()
        self.runtime.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
