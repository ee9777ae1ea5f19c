"""The demo is optional and talks to the Mailchimp sandbox only over HTTP: `bootstrap`
links the demo's list to an audience the running sandbox creates, says so plainly when no
sandbox answers, and mcbridge runs with the sandbox not installed at all."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from mcbridge_sandbox import SandboxControl
from sqlalchemy import func, select

from mcbridge.extensions import db
from mcbridge.models import MailingList, Person, User

ROOT = Path(__file__).resolve().parent.parent


def linked_lists() -> list[MailingList]:
    linked = select(MailingList).where(MailingList.mailchimp_list_id.is_not(None))
    return list(db.session.scalars(linked))


def test_bootstrap_links_the_demo_list_to_an_audience_of_the_running_sandbox(
    runner: FlaskCliRunner, sandbox: SandboxControl
) -> None:
    result = runner.invoke(args=["mcbridge", "bootstrap"])
    assert result.exit_code == 0, result.output
    audience_id = re.search(r"linked to the sandbox audience (\w+)", result.output).group(1)
    [linked] = linked_lists()
    assert linked.mailchimp_list_id == audience_id
    assert sandbox.members(audience_id) == []


def test_the_demos_people_speak_mostly_german_and_french_some_italian_and_english(
    runner: FlaskCliRunner, sandbox: SandboxControl
) -> None:
    assert runner.invoke(args=["mcbridge", "bootstrap"]).exit_code == 0
    languages = select(Person.language, func.count()).group_by(Person.language)
    counts = dict(db.session.execute(languages).all())
    assert set(counts) == {"de", "fr", "it", "en"}
    assert counts["de"] + counts["fr"] > 3 * (counts["it"] + counts["en"])


def test_bootstrap_without_a_sandbox_says_so_and_keeps_the_rest(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app.config["MAILCHIMP_API_BASE_URL"] = nobody + "/{dc}/3.0/"
    result = runner.invoke(args=["mcbridge", "bootstrap"])
    assert result.exit_code == 0, result.output
    assert f"No Mailchimp sandbox answers at {nobody}: start it" in result.output
    assert db.session.scalar(select(User).where(User.is_admin.is_(True))) is not None
    assert linked_lists() == []


def test_mcbridge_runs_without_the_sandbox_installed() -> None:
    script = (
        "import sys; sys.modules['mcbridge_sandbox'] = None\n"
        "from mcbridge.cli import mcbridge_cli\n"
        "import mcbridge.demo\n"
        "print(sorted(mcbridge_cli.commands))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "'bootstrap'" in done.stdout
    assert "'sandbox'" not in done.stdout
