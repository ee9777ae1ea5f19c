"""Mailchimp connections: checking a key, reading its audiences, linking a list to one.

An administrator owns the keys (see models.connections); a leader only ever picks an
audience their group was given. Everything that ties a list to an audience goes through
`link`, so the rules hold for the Mailchimp page, the demo and the benchmark alike.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, select

from mcbridge.auth import current_actor_label
from mcbridge.clock import now
from mcbridge.extensions import db
from mcbridge.mailchimp import connect
from mcbridge.mailchimp.audience import AudienceInfo, audiences
from mcbridge.models import (
    AudienceMember,
    ConnectionAudience,
    Group,
    MailchimpConnection,
    MailingList,
    SyncRun,
)
from mcbridge.models.sync import UNLINK_KEEP
from mcbridge.webhooks.register import forget_webhook


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


def unlink(mailing_list: MailingList) -> None:
    """Untie the list from its audience: its webhook goes, its copy of the audience and its
    consent too (a new link asks again). Mailchimp's contacts are not touched here: a
    leader who wants the managed ones archived has an export do it first (see
    jobs.export.enqueue_unlink). The caller commits."""
    api_key = mailing_list.mailchimp_api_key
    client = connect(api_key) if api_key else None
    try:
        forget_webhook(client, mailing_list)
    finally:
        if client is not None:
            client.close()
    forget_audience_copy(mailing_list)
    mailing_list.connection = None
    mailing_list.mailchimp_list_id = None
    mailing_list.mailchimp_audience_name = None
    mailing_list.consent_by_id, mailing_list.consent_at = None, None
    mailing_list.consent_by_label = None


def unlink_keeping_contacts(mailing_list: MailingList, user_id: int | None) -> SyncRun:
    """Unlink at once, leaving every contact in Mailchimp as it is; the choice goes into
    the list's history as a run that changed nothing there. The caller commits."""
    moment = now()
    run = SyncRun(
        mailing_list=mailing_list,
        trigger="manual",
        triggered_by_id=user_id,
        triggered_by_label=current_actor_label(),
        state="unchanged",
        created_at=moment,
        started_at=moment,
        finished_at=moment,
        unlink_choice=UNLINK_KEEP,
    )
    db.session.add(run)
    unlink(mailing_list)
    return run


def forget_audience_copy(mailing_list: MailingList) -> None:
    """A new audience (or none) makes the copy of the old one meaningless."""
    db.session.query(AudienceMember).filter_by(mailing_list_id=mailing_list.id).delete()
    mailing_list.audience_changed_since = None
    mailing_list.audience_read_at = None
    mailing_list.audience_fields = None
