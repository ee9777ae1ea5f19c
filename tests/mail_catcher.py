"""A real SMTP server in the test process (aiosmtpd) that keeps the mails it receives."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers import wait_for

LINK = re.compile(r"https?://\S+/password/\S+")


class Inbox:
    """aiosmtpd's handler: every mail accepted, parsed and kept in arrival order."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        self.mails.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class MailCatcher:
    """The server on a free port of the loopback; `url` is a MAIL_URL that reaches it."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.url = f"smtp://127.0.0.1:{self.controller.port}"

    def __enter__(self) -> MailCatcher:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()

    @property
    def mails(self) -> list[EmailMessage]:
        return self.inbox.mails

    def received(self, count: int = 1) -> list[EmailMessage]:
        """The mails, once `count` arrived: reset mails are sent by a thread of their own."""
        wait_for(lambda: len(self.mails) >= count)
        assert len(self.mails) == count, [mail["Subject"] for mail in self.mails]
        return self.mails


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def body(mail: EmailMessage, subtype: str = "plain") -> str:
    part = mail.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


def link_in(mail: EmailMessage) -> str:
    """The password link a person would click in the plain text part."""
    match = LINK.search(body(mail))
    assert match, body(mail)
    return match.group(0)
