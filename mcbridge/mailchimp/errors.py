"""Mailchimp's answers turned into mcbridge's own exceptions, with messages a leader reads.

Nothing here ever includes the API key: messages are built from Mailchimp's title and
detail, never from the request.
"""

from __future__ import annotations

from typing import Any

from mcbridge.messages import N_, Message


class MailchimpError(Exception):
    """A call Mailchimp answered with an error (or never answered)."""

    def __init__(
        self,
        status: int | None,
        title: str = "",
        detail: str = "",
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}".strip())
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []

    def user_message(self) -> Message:
        """What went wrong, for the group leader (translated when shown)."""
        return Message(
            N_("Mailchimp refused the request (%(status)s %(title)s): %(detail)s"),
            {"status": self.status, "title": self.title, "detail": self.detail},
        )


class KeyRefusedError(MailchimpError):
    def user_message(self) -> Message:
        return Message(
            N_(
                "The API key was refused by Mailchimp. It may have been revoked, or mistyped: "
                "create a new key in Mailchimp (Account › Extras › API keys) and save it on "
                "the list."
            )
        )


class NotFoundError(MailchimpError):
    """404 on one resource (a contact, a batch): says nothing about the audience."""


class AudienceNotFoundError(NotFoundError):
    """404 on the audience itself: an id the key does not own."""

    def user_message(self) -> Message:
        return Message(
            N_(
                "Mailchimp has no audience with this id for this API key. Check the audience "
                "id (Audience › Settings › Audience name and defaults)."
            )
        )


class UnavailableError(MailchimpError):
    """Mailchimp could not be reached, or kept answering 429/5xx after every retry."""

    def user_message(self) -> Message:
        return Message(
            N_(
                "Mailchimp could not be reached or was overloaded (%(detail)s). Nothing more "
                "was changed; the next export will try again."
            ),
            {"detail": self.detail or self.title or self.status},
        )


def from_response(status: int, body: dict[str, Any] | None) -> MailchimpError:
    """The exception for an error answer, chosen by status and Mailchimp's problem document."""
    if status == 403 and not body:
        # Mailchimp's throttling "at exceptionally high volumes", not a refused key (which
        # comes as a problem document).
        return UnavailableError(status, "Throttled", "403 without a body: too many requests")
    body = body or {}
    title = str(body.get("title") or "")
    detail = str(body.get("detail") or "")
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    if status in (401, 403):
        return KeyRefusedError(status, title, detail, errors)
    if status == 404:
        return NotFoundError(status, title, detail, errors)
    if status == 429 or status >= 500:
        return UnavailableError(status, title, detail, errors)
    return MailchimpError(status, title, detail, errors)


class IncompleteReadError(UnavailableError):
    """Reading the audience did not see every member it listed: contacts came or went while
    it paged. Nothing is concluded from such a read, so nothing is written."""

    def __init__(self, listed: int, seen: int, listed_at_end: int) -> None:
        super().__init__(None, "Incomplete read", f"{seen} of {listed} members read")
        self.listed, self.seen, self.listed_at_end = listed, seen, listed_at_end

    def user_message(self) -> Message:
        return Message(
            N_(
                "The audience changed while mcbridge read it (%(listed)s members listed at the "
                "start, %(end)s at the end, %(seen)s read): nothing was written. The next "
                "export reads it again."
            ),
            {"listed": self.listed, "end": self.listed_at_end, "seen": self.seen},
        )
