"""`flask mcbridge sandbox` commands, run through click's CliRunner on a data file."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests
from click.testing import CliRunner
from flask import Flask
from mcbridge_sandbox import SandboxServer
from mcbridge_sandbox.cli import default_data_path, sandbox
from mcbridge_sandbox.keys import is_api_key

ROOT = Path(__file__).resolve().parents[2]


def run(data: Path, *args: str) -> str:
    result = CliRunner().invoke(sandbox, ["--data", str(data), *args])
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_add_account_prints_a_key(tmp_path: Path) -> None:
    key = run(tmp_path / "sandbox.sqlite3", "add-account", "--dc", "us6")
    assert is_api_key(key)
    assert key.endswith("-us6")


def test_add_audience_creates_the_account_if_needed(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.sqlite3"
    key = "0123456789abcdef0123456789abcdef-us2"
    audience_id = run(data, "add-audience", "--key", key, "--name", "Choir")
    assert re.fullmatch(r"[0-9a-f]{10}", audience_id)
    listing = run(data, "list")
    assert "…cdef-us2" in listing
    assert f"{audience_id}  Choir" in listing
    assert key not in listing


def test_malformed_key_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sandbox,
        ["--data", str(tmp_path / "s.sqlite3"), "add-audience", "--key", "nope", "--name", "X"],
    )
    assert result.exit_code != 0
    assert "--key" in result.output


def test_running_server_sees_what_the_cli_adds(tmp_path: Path) -> None:
    """The CLI writes the file from another connection while the server runs."""
    data = tmp_path / "shared.sqlite3"
    with SandboxServer(data=str(data)) as server:
        key = run(data, "add-account")
        audience_id = run(data, "add-audience", "--key", key, "--name", "Late")
        api = f"{server.url}/3.0/lists/{audience_id}"
        assert requests.get(api, auth=("x", key), timeout=10).json()["name"] == "Late"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "kept.sqlite3"
    key = run(data, "add-account")
    audience_id = run(data, "add-audience", "--key", key, "--name", "Kept")
    for _ in range(2):
        with SandboxServer(data=str(data)) as server:
            url = f"{server.url}/3.0/lists/{audience_id}/members/ann@acme-members.org"
            body = {"email_address": "ann@acme-members.org", "status_if_new": "subscribed"}
            assert requests.put(url, json=body, auth=("x", key), timeout=10).ok
    assert "1 subscribed / 1 contacts" in run(data, "list")


def test_invoked_alone_it_serves(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path / "served.sqlite3"
    command = [sys.executable, "-m", "mcbridge_sandbox", "--port", str(port), "--data", str(data)]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert child.stdout is not None
        banner = child.stdout.readline().decode()
        assert f"http://127.0.0.1:{port}/{{dc}}/3.0/" in banner
        key = run(data, "add-account")
        response = requests.get(
            f"http://127.0.0.1:{port}/us1/3.0/ping", auth=("x", key), timeout=10
        )
        assert response.json()["health_status"] == "Everything's Chimpy!"
    finally:
        child.terminate()
        child.wait(timeout=10)


def test_default_data_file_is_in_the_instance_folder(tmp_path: Path) -> None:
    app = Flask("host", instance_path=str(tmp_path / "instance"))
    with app.app_context():
        assert default_data_path() == str(tmp_path / "instance" / "mailchimp-sandbox.sqlite3")
    assert default_data_path() == "mailchimp-sandbox.sqlite3"


def test_the_served_sandbox_answers_with_one_date(tmp_path: Path) -> None:
    """As `python -m mcbridge_sandbox` serves it (requests logged): one Date header, the
    sandbox's own clock, which exports read Mailchimp's time from."""
    data = tmp_path / "served.sqlite3"
    key = run(data, "add-account")
    with SandboxServer(data=str(data), quiet=False) as server:
        response = requests.get(f"{server.url}/3.0/ping", auth=("x", key), timeout=10)
    assert response.ok
    assert len(response.raw.headers.getlist("Date")) == 1
    assert parsedate_to_datetime(response.headers["Date"]).tzinfo is not None
