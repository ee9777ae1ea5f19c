"""Fixtures for the sandbox's conformance suite: the session's sandbox server (from the
root conftest), and per test a fresh account and audience so tests never see each other's
data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from mailchimp3 import MailChimp
from mcbridge_sandbox import SandboxControl, SandboxServer
from mcbridge_sandbox.keys import data_centre

from tests.sandbox.helpers import Api, WebhookReceiver


@dataclass(frozen=True)
class Sandbox:
    server: SandboxServer
    control: SandboxControl

    @property
    def url(self) -> str:
        return self.server.url

    def base_url(self, key: str) -> str:
        return self.server.api_base_url.format(dc=data_centre(key))

    def mailchimp(self, key: str) -> MailChimp:
        """mailchimp3 pointed at the sandbox, the way mcbridge will do it."""
        client = MailChimp(mc_api=key, timeout=30)
        client.base_url = self.base_url(key)
        return client

    def api(self, key: str | None, base_url: str | None = None) -> Api:
        return Api(base_url or self.base_url(key or "0" * 32 + "-us1"), key)


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[Sandbox]:
    control = SandboxControl(sandbox_server.url)
    yield Sandbox(sandbox_server, control)
    control.clear_faults()
    control.resume_batches()


@pytest.fixture
def account_key(sandbox: Sandbox) -> str:
    return sandbox.control.add_account()


@pytest.fixture
def audience_id(sandbox: Sandbox, account_key: str) -> str:
    return sandbox.control.add_audience(account_key, "Members")


@pytest.fixture
def mc(sandbox: Sandbox, account_key: str) -> MailChimp:
    return sandbox.mailchimp(account_key)


@pytest.fixture
def api(sandbox: Sandbox, account_key: str) -> Api:
    return sandbox.api(account_key)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
