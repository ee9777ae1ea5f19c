"""End to end: the real processes of the Procfile (web, worker, scheduler, sandbox) started
as `make run` starts them, on free ports; a leader links a list and exports it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from mcbridge_sandbox import SandboxControl

from tests.helpers import TEST_REDIS_URL, TOKEN, root_group, wait_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


class Installation:
    """A throw-away installation: its own SQLite file, Redis namespace and ports."""

    def __init__(self, folder: Path, redis_url: str) -> None:
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.sandbox = SandboxControl(f"http://127.0.0.1:{self.sandbox_port}")
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "FLASK_APP": "wsgi",
            "DATABASE_URL": f"sqlite:///{folder / 'mcbridge.sqlite3'}",
            "REDIS_URL": redis_url,
            "SECRET_KEY": "end-to-end",
            "MCBRIDGE_ENCRYPTION_KEYS": "x6QiRNfW0d3xzVfUlYLIhJtK2Xmc0BhHmPIbZ6D3wBU=",
            "MCBRIDGE_PORT": str(self.web_port),
            "SANDBOX_PORT": str(self.sandbox_port),
            "MAILCHIMP_API_BASE_URL": f"http://127.0.0.1:{self.sandbox_port}/{{dc}}/3.0/",
            "MCBRIDGE_PUBLIC_URL": self.url,
        }
        self.folder = folder
        self.processes: list[subprocess.Popen[str]] = []
        self.bootstrap_output = ""

    def prepare(self) -> None:
        """What scripts/run does before starting the processes."""
        self.flask("db", "upgrade")
        self.bootstrap_output = self.flask("mcbridge", "bootstrap")

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    def start(self) -> None:
        for name, command in procfile().items():
            if name == "sandbox":
                command += f" --data {self.folder / 'sandbox.sqlite3'}"
            self.processes.append(
                subprocess.Popen(
                    command,
                    shell=True,
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        assert wait_for(lambda: answers(f"{self.url}/admin/account/sign-in"), timeout=60)
        assert wait_for(lambda: answers(f"http://127.0.0.1:{self.sandbox_port}/"), timeout=60)

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    running = Installation(tmp_path, TEST_REDIS_URL)
    running.prepare()
    running.start()
    yield running
    running.stop()


class Browser:
    """A signed-in user's browser, as far as HTTP goes: cookies and CSRF tokens."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def token(self, page: str) -> str:
        match = TOKEN.search(self.http.get(self.url + page, timeout=10).text)
        assert match, page
        return match.group(1)

    def post(self, action: str, data: dict[str, str], page: str) -> requests.Response:
        return self.http.post(
            self.url + action, data={**data, "csrf_token": self.token(page)}, timeout=30
        )

    def get(self, page: str) -> str:
        return self.http.get(self.url + page, timeout=10).text


def signed_in(installation: Installation, pattern: str) -> Browser:
    credentials = re.search(pattern + r" (\S+) / (\S+)", installation.bootstrap_output)
    email, password = credentials.groups()
    browser = Browser(installation.url)
    answer = browser.post(
        "/admin/account/sign-in", {"email": email, "password": password}, "/admin/account/sign-in"
    )
    assert "Welcome, you are signed in." in answer.text
    return browser


def give_audience(admin: Browser, key: str, audience_name: str) -> None:
    """An administrator adds the connection for the whole organisation and gives it the
    audience (the root of the tree, found as the form's group search finds it)."""
    new = "/admin/connections/new/"
    root = root_group(admin.get("/admin/connections/ajax/lookup/?name=groups&query="))
    admin.post(new, {"name": "Organisation", "new_key": key, "groups": root}, new)
    rows = admin.get("/admin/audiences/").split("<tr")
    row = next(row for row in rows if audience_name in row and "audiences/edit" in row)
    audience_id = re.search(r"/admin/audiences/edit/\?id=(\d+)", row)
    edit = f"/admin/audiences/edit/?id={audience_id.group(1)}"
    admin.post(edit, {"groups": root}, edit)


def test_a_leader_links_and_exports_a_list_through_the_running_processes(installation):
    admin = signed_in(installation, "Administrator sign-in \\(shown once\\):")
    browser = signed_in(installation, "Club leader sign-in:")
    list_id = re.search(
        r'/admin/subscribers/(\d+)/">Rowing Club Basel news', browser.get("/admin/")
    ).group(1)

    key = installation.sandbox.add_account()
    audience = installation.sandbox.add_audience(key, "Club news")
    give_audience(admin, key, "Club news")
    link_page = f"/admin/mailchimp/{list_id}/"
    choice = re.search(r'<option value="(\d+)">[^<]*Club news', browser.get(link_page))
    linked = browser.post(
        link_page,
        {
            "audience": choice.group(1),
            "send_first_name": "y",
            "send_last_name": "y",
            "consent": "y",
            "save": "1",
        },
        link_page,
    )
    assert "Linked to the Mailchimp audience “Club news”" in linked.text

    subscribers = f"/admin/subscribers/{list_id}/"
    started = browser.post(f"/admin/exports/{list_id}/start", {}, subscribers)
    assert "Export to Mailchimp started." in started.text

    history = f"/admin/exports/{list_id}/history"
    assert wait_for(lambda: 'badge-success">exported' in browser.get(history), timeout=60)
    members = installation.sandbox.members(audience)
    recipients = re.search(
        r'<div class="h3 mb-0">(\d+)</div><div class="text-muted">addresses',
        browser.get(subscribers).replace("\n", "").replace("  ", ""),
    )
    assert members
    assert {m["status"] for m in members} == {"subscribed"}
    if recipients:
        assert len(members) == int(recipients.group(1))
