"""The sandbox is its own distribution (mcbridge-sandbox, the extra mcbridge[sandbox]): it
runs, serves its page in its own languages and prepares data files with nothing of mcbridge
importable, and its public surface is what the package exports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import requests
from mcbridge_sandbox import SandboxData, SandboxServer, subscriber_hash

from tests.sandbox.helpers import address, wait_for

# Any module of mcbridge imported by the sandbox fails: the product package is blocked.
WITHOUT_MCBRIDGE = "import sys; sys.modules['mcbridge'] = None; "
EVERY_MODULE = (
    "import importlib, pkgutil, mcbridge_sandbox\n"
    "for found in pkgutil.walk_packages(mcbridge_sandbox.__path__, 'mcbridge_sandbox.'):\n"
    "    if found.name != 'mcbridge_sandbox.__main__':\n"
    "        importlib.import_module(found.name)\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def outside_the_repository() -> dict[str, str]:
    """The environment of a process started elsewhere: mcbridge is not installed, so only
    the repository's working directory could make it importable."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def test_every_module_imports_with_mcbridge_blocked(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_MCBRIDGE + EVERY_MODULE],
        cwd=tmp_path,
        env=outside_the_repository(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_started_outside_the_repository_it_serves_its_page_translated(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "mcbridge_sandbox", "--port", str(port), "--data", "s.db"]
    child = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=outside_the_repository(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        french = wait_for(lambda: fetched(url, "fr"), timeout=30)
        assert "Bac à sable Mailchimp" in french
        assert "Aucun compte pour l’instant." in french
        assert "Mailchimp-Sandbox" in fetched(url, "de")
    finally:
        child.terminate()
        child.wait(timeout=10)


def fetched(url: str, language: str) -> str | None:
    try:
        response = requests.get(url, headers={"Accept-Language": language}, timeout=2)
    except requests.ConnectionError:
        return None
    return response.text


def test_a_data_file_prepared_without_a_server_is_served(tmp_path: Path) -> None:
    data = str(tmp_path / "prepared.sqlite3")
    with SandboxData(data) as prepared:
        key = prepared.add_account("us7")
        audience_id = prepared.add_audience(key, "Prepared")
        members = [{"email_address": address(n), "merge_fields": {"FNAME": "A"}} for n in range(3)]
        assert prepared.bulk_load_members(audience_id, members) == 3
    with SandboxServer(data=data) as server:
        base = server.api_base_url.format(dc="us7")
        member = f"{base}lists/{audience_id}/members/{subscriber_hash(address(2))}"
        found = requests.get(member, auth=("x", key), timeout=10).json()
    assert found["status"] == "subscribed"
    assert found["merge_fields"]["FNAME"] == "A"
