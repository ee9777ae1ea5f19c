"""mcbridge: send an organisation's member lists to Mailchimp, from Flask-Admin.

`create_app` and `MCBridge` are imported on first use, so that light parts of the package
(the Mailchimp sandbox, run as its own process) do not pull in the whole admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcbridge.app import create_app
    from mcbridge.plugin import MCBridge

__all__ = ["MCBridge", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mcbridge.app import create_app

        return create_app
    if name == "MCBridge":
        from mcbridge.plugin import MCBridge

        return MCBridge
    raise AttributeError(name)
