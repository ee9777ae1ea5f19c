"""Small clients for the sandbox's API and a real HTTP receiver for webhook deliveries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from mcbridge_sandbox import SandboxControl
from mcbridge_sandbox.keys import subscriber_hash
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

T = TypeVar("T")


def address(n: int | str, domain: str = "acme-members.org") -> str:
    """A realistic address: the sandbox refuses example.com and reserved domains."""
    return f"person{n}@{domain}"


def member_path(audience_id: str, email: str) -> str:
    return f"lists/{audience_id}/members/{subscriber_hash(email)}"


class Api:
    """Raw HTTP against the sandbox, Basic auth with any user name and the key."""

    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if key is not None:
            self.session.auth = ("anystring", key)

    def request(self, method: str, path: str, **options: Any) -> requests.Response:
        return self.session.request(method, self.base_url + path.lstrip("/"), timeout=30, **options)

    def get(self, path: str, **options: Any) -> requests.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> requests.Response:
        return self.request("POST", path, **options)

    def put(self, path: str, **options: Any) -> requests.Response:
        return self.request("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> requests.Response:
        return self.request("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> requests.Response:
        return self.request("DELETE", path, **options)

    def unsubscribed(self, audience_id: str, email: str, control: SandboxControl) -> None:
        """A member who unsubscribed by themselves: the consent a sync must respect."""
        self.subscribe(audience_id, email)
        control.simulate_unsubscribe(audience_id, email)

    def subscribe(self, audience_id: str, email: str, **fields: Any) -> dict[str, Any]:
        """PUT a new subscribed member and fail loudly if the sandbox refuses."""
        body = {"email_address": email, "status_if_new": "subscribed", **fields}
        response = self.put(member_path(audience_id, email), json=body)
        assert response.status_code == 200, response.text
        return response.json()


def concurrent_pings(api_for: Callable[[int], Api], count: int) -> list[int]:
    """`count` GET /ping started at the same instant; statuses in submission order."""
    barrier = threading.Barrier(count)

    def ping(n: int) -> int:
        api = api_for(n)
        barrier.wait()
        return api.get("ping").status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(ping, range(count)))


def wait_for(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll briefly until `probe` returns something truthy (async batches and webhooks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"nothing after {timeout} s")


@dataclass
class Received:
    method: str
    path: str
    form: dict[str, str]
    user_agent: str


@dataclass
class WebhookReceiver:
    """A real HTTP endpoint in a thread; answers GETs with `validation_status`, and the next
    POSTs as `answers` says ((status, seconds to wait first), one each), later ones 200."""

    validation_status: int = 200
    answers: list[tuple[int, float]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _server: BaseWSGIServer | None = None

    def start(self) -> WebhookReceiver:
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        server = self._server
        threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.02), daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def url(self, path: str = "/hooks/secret-token") -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def posts(self, path: str | None = None) -> list[Received]:
        return [
            r
            for r in list(self.received)
            if r.method == "POST" and (path is None or r.path == path)
        ]

    def wait_for_posts(self, count: int, path: str | None = None) -> list[Received]:
        return wait_for(lambda: (found := self.posts(path)) and len(found) >= count and found)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.received.append(
            Received(
                request.method,
                request.path,
                request.form.to_dict(),
                request.headers.get("User-Agent", ""),
            )
        )
        status, delay = self.validation_status, 0.0
        if request.method == "POST":
            status, delay = self.answers.pop(0) if self.answers else (200, 0.0)
        time.sleep(delay)
        return Response("ok", status=status)(environ, start_response)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Deliveries are asserted on, not printed."""
