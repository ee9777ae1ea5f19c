"""`python -m conformance`, the live check CI never runs, run against a second sandbox in
Mailchimp's place so that the script cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mcbridge_sandbox import SandboxControl, SandboxServer

from conformance.live import PROBES, UNFINISHED

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "conformance-probe.org"


def test_live_check_against_a_sandbox_sees_the_same_everywhere_and_cleans_up(
    sandbox_server: SandboxServer,
):
    control = SandboxControl(sandbox_server.url)
    api_key = control.add_account("us6")
    audience_id = control.add_audience(api_key, "Throwaway")
    env = {
        **os.environ,
        "MAILCHIMP_LIVE_KEY": api_key,
        "MAILCHIMP_LIVE_AUDIENCE": audience_id,
        "MAILCHIMP_LIVE_DOMAIN": DOMAIN,
        "MAILCHIMP_LIVE_BASE_URL": sandbox_server.api_base_url,
    }

    done = subprocess.run(
        [sys.executable, "-m", "conformance"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    rows = [line for line in done.stdout.splitlines() if line.split(" | ")[0].strip() in PROBES]
    assert len(rows) == len(PROBES), printed
    assert all(row.endswith("| same") for row in rows), printed
    assert UNFINISHED not in printed
    assert api_key not in printed
    assert api_key.split("-")[0][:-4] not in printed
    probe_contacts = [
        m for m in control.members(audience_id) if m["email_address"].endswith(f"@{DOMAIN}")
    ]
    assert probe_contacts
    assert {m["status"] for m in probe_contacts} == {"archived"}
