"""A local stand-in for the parts of Mailchimp's Marketing API v3 that mcbridge uses.

Start it with `SandboxServer` (tests, demos) or `flask mcbridge sandbox` (CLI) and steer it
with `SandboxControl`. It is strict on purpose: code that passes against it should work
against Mailchimp.
"""

from mcbridge.sandbox.control import SandboxControl, SandboxControlError
from mcbridge.sandbox.server import SandboxServer

__all__ = ["SandboxControl", "SandboxControlError", "SandboxServer"]
