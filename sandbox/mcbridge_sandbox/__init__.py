"""A local stand-in for the parts of Mailchimp's Marketing API v3 that mcbridge uses.

Start it with `SandboxServer` (tests, demos) or `python -m mcbridge_sandbox` (CLI), steer it
with `SandboxControl` (its /_sandbox/ endpoints over HTTP) and prepare a data file without a
server with `SandboxData`: these, and the two key helpers, are its public surface.

It is as strict as Mailchimp where Mailchimp is strict, and as
permissive where Mailchimp is permissive: code that passes against it should work against
Mailchimp, and code that would harm someone's consent on Mailchimp does so here too. So
that such harm shows, every contact set back to subscribed by anything but their own
sign-up is written to the consent ledger (`SandboxControl.consent_ledger`, and on the
sandbox's page) with the request that did it.

Behaviours modelled that Mailchimp does not document. [USER]: reported in several
integrations' trackers; [UNVERIFIED]: nobody here could confirm it, and the sandbox takes
the choice that would expose a bug in an export (the more dangerous one):

- Only a contact in a compliance state (unsubscribed themselves, hard bounce, spam
  complaint) is refused `subscribed`, with 400 "Member In Compliance State". [USER]
- A contact unsubscribed by an admin or through the API (PUT/PATCH `status:
  unsubscribed`) is set back to subscribed by any later write carrying `"status":
  "subscribed"`: PUT, PATCH, batch subscribe with `update_existing`, /batches. [USER]
- An archived contact comes back with whatever status a write sends, and the API never
  shows the status it had before. [USER] for one unsubscribed by an admin. For one that
  unsubscribed itself or was cleaned: [UNVERIFIED]; it comes back subscribed too, so an
  export that writes a status to archived contacts re-subscribes people here (and lands in
  the ledger) rather than being saved by a refusal Mailchimp may not make.
- Batch subscribe reports an archived contact as created (`new_members`). [USER] That
  `update_existing: false` does not protect it, and it comes back with the status sent:
  [UNVERIFIED]; protecting it would hide an export that adds people without first reading
  who is archived.
- Tags inside batch-subscribe entries apply to new contacts only; existing ones, archived
  ones included, keep theirs. [UNVERIFIED]; ignoring them shows an export that relies on
  them for existing contacts.
- The member listing without a `status` filter leaves archived contacts out, of
  `total_items` too, also with `since_last_changed`; `status=archived` lists them.
  [UNVERIFIED]; leaving them out shows an export that never reads `status=archived`.
- `count` above 1000 is capped to 1000, silently, on every listing. [USER]
- A cleaned contact takes profile (merge field) updates. [UNVERIFIED]; accepting them
  means an export that writes to cleaned contacts changes them silently, as it may on
  Mailchimp, instead of being stopped by an error Mailchimp may not send. `subscribed` is a
  compliance refusal [USER]; any other status is taken and the compliance state stays
  [UNVERIFIED; refusing would make the sandbox stricter than Mailchimp may be].
- Merge-field validation errors name the bare tag (`"field": "DOB"`), in problem
  documents and in batch subscribe's per-member errors. [USER]
- Faults a test can inject, off by default: 504s on large pages only (`min_count`), a
  member listing whose order shifts between pages, a connection dropped after the work was
  done, a change made just before the next write, /batches held unfinished. [USER]
"""

from mcbridge_sandbox.control import SandboxControl, SandboxControlError
from mcbridge_sandbox.data import SandboxData
from mcbridge_sandbox.keys import data_centre, subscriber_hash
from mcbridge_sandbox.server import SandboxServer

__all__ = [
    "SandboxControl",
    "SandboxControlError",
    "SandboxData",
    "SandboxServer",
    "data_centre",
    "subscriber_hash",
]
