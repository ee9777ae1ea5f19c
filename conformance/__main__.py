"""`python -m conformance`: the probes against the real Mailchimp and a fresh sandbox, as a
table. Exits 0 when every probe saw the same on both, 1 when one did not (or the clean-up
left something behind), 2 when it cannot run.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import requests
from mcbridge_sandbox import SandboxControl, SandboxServer

from conformance.live import Row, run_probes
from conformance.side import ProbeError, Side
from mcbridge.mailchimp.keys import datacenter, is_well_formed, masked

LIVE_BASE_URL = "https://{dc}.api.mailchimp.com/3.0/"
DEFAULT_DOMAIN = "mcbridge-probe.org"
USAGE = (
    "Set MAILCHIMP_LIVE_KEY (an API key, <32 hex>-<dc>) and MAILCHIMP_LIVE_AUDIENCE (the id "
    "of a throwaway audience). Optional: MAILCHIMP_LIVE_DOMAIN (the probe addresses' domain, "
    f"default {DEFAULT_DOMAIN}), MAILCHIMP_LIVE_BASE_URL (default {LIVE_BASE_URL})."
)
HEADINGS = ("probe", "Mailchimp", "sandbox", "verdict")


class SetupError(Exception):
    """The check cannot start: settings missing or refused. The message never holds the key."""


@dataclass(frozen=True)
class Settings:
    api_key: str
    audience_id: str
    domain: str
    base_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        api_key = env.get("MAILCHIMP_LIVE_KEY", "").strip()
        audience_id = env.get("MAILCHIMP_LIVE_AUDIENCE", "").strip()
        if not (api_key and audience_id):
            raise SetupError(USAGE)
        if not is_well_formed(api_key):
            raise SetupError(f"MAILCHIMP_LIVE_KEY is not an API key (<32 hex>-<dc>). {USAGE}")
        template = env.get("MAILCHIMP_LIVE_BASE_URL") or LIVE_BASE_URL
        return cls(
            api_key=api_key,
            audience_id=audience_id,
            domain=env.get("MAILCHIMP_LIVE_DOMAIN") or DEFAULT_DOMAIN,
            base_url=template.format(dc=datacenter(api_key)),
        )

    def describe(self) -> str:
        return f"{self.base_url} (key {masked(self.api_key)}, audience {self.audience_id})"


def main(env: Mapping[str, str]) -> int:
    run_id = secrets.token_hex(4)
    try:
        settings = Settings.from_env(env)
        live = Side(
            "Mailchimp",
            settings.base_url,
            settings.api_key,
            settings.audience_id,
            settings.domain,
            run_id,
        )
        check_reachable(live)
    except SetupError as problem:
        print(problem, file=sys.stderr)
        return 2
    print(f"Mailchimp: {settings.describe()}")
    print(f"Probe contacts: probe+{run_id}-…@{settings.domain}, archived afterwards\n")
    with SandboxServer() as server:
        sandbox = sandbox_side(server, settings.domain, run_id)
        try:
            rows = run_probes(live, sandbox)
        finally:
            left = live.clean_up() + sandbox.clean_up()
    print_table(rows)
    for what in left:
        print(f"left behind: {what}", file=sys.stderr)
    return 0 if all(row.same for row in rows) and not left else 1


def check_reachable(live: Side) -> None:
    """A wrong key or audience should say so once, not as ten failed probes."""
    try:
        live.call("GET", "ping")
        live.call("GET", live.audience_path, params={"fields": "id"})
    except ProbeError as refusal:
        raise SetupError(f"Mailchimp refused the key or the audience: {refusal}") from refusal
    except requests.RequestException as error:
        raise SetupError(f"Mailchimp did not answer: {type(error).__name__}") from error


def sandbox_side(server: SandboxServer, domain: str, run_id: str) -> Side:
    """A fresh account and audience with Mailchimp's default merge fields, as a new live
    audience has them."""
    control = SandboxControl(server.url)
    api_key = control.add_account()
    audience_id = control.add_audience(api_key, "Conformance probe")
    base_url = server.api_base_url.format(dc=datacenter(api_key))
    return Side("sandbox", base_url, api_key, audience_id, domain, run_id)


def print_table(rows: Sequence[Row]) -> None:
    lines = [HEADINGS]
    lines += [(r.probe, r.live, r.sandbox, "same" if r.same else "different") for r in rows]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADINGS))]
    for number, line in enumerate(lines):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print(" | ".join(cells).rstrip())
        if number == 0:
            print("-+-".join("-" * width for width in widths))


if __name__ == "__main__":
    sys.exit(main(os.environ))
