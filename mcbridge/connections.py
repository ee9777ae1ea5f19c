"""Mailchimp connections: checking a key, reading its audiences, linking a list to one.

An administrator owns the keys (see models.connections); a leader only ever picks an
audience their group was given. Everything that ties a list to an audience goes through
`link`, so the rules hold for the Mailchimp page, the demo and the benchmark alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select

from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import AudienceInfo, audiences
from mcbridge.models import ConnectionAudience, Group, MailchimpConnection, MailingList


def read_audiences(api_key: str) -> list[AudienceInfo]:
    """The key's audiences, straight from Mailchimp: also the check that the key works
    (a refused key raises KeyRefusedError)."""
    client = connect(api_key)
    try:
        return audiences(client)
    finally:
        client.close()


def store_audiences(connection: MailchimpConnection, found: Iterable[AudienceInfo]) -> None:
    """Bring the connection's audiences up to date; who may use each is kept."""
    known = {audience.audience_id: audience for audience in connection.audiences}
    for info in found:
        audience = known.get(info.id)
        if audience is None:
            audience = ConnectionAudience(audience_id=info.id, connection=connection)
            connection.audiences.append(audience)
        audience.name = info.name or info.id
        audience.member_count = info.member_count
        audience.refreshed_at = now()


def add_connection(
    name: str,
    api_key: str,
    groups: Iterable[Group],
    found: Iterable[AudienceInfo] = (),
) -> MailchimpConnection:
    """A connection given to `groups`, with its audiences given to the same groups (what
    the demo and the benchmark need; an administrator narrows it down afterwards)."""
    given = list(groups)
    connection = MailchimpConnection(name=name, api_key=api_key, created_at=now(), groups=given)
    db.session.add(connection)
    store_audiences(connection, found)
    for audience in connection.audiences:
        audience.groups = list(given)
    return connection


def tag_taken(audience_id: str, tag: str, mailing_list: MailingList) -> bool:
    """Another list of the same audience already owns this managed tag."""
    statement = select(
        exists().where(
            MailingList.mailchimp_list_id == audience_id,
            MailingList.mailchimp_tag == tag,
            MailingList.id != mailing_list.id,
        )
    )
    return bool(db.session.scalar(statement))


def link(mailing_list: MailingList, audience: ConnectionAudience) -> None:
    """Tie the list to the audience; the managed tag is fixed now if it was not before."""
    mailing_list.connection = audience.connection
    mailing_list.mailchimp_list_id = audience.audience_id
    mailing_list.mailchimp_audience_name = audience.name
    mailing_list.mailchimp_tag = mailing_list.managed_tag
