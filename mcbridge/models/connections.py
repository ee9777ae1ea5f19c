"""Mailchimp connections: an administrator's API keys, their audiences, and who may use them.

A group leader never types a key. An administrator adds a connection (a name and a key,
checked and stored encrypted) and says which groups may use it and which of its audiences;
a group may use what its own group or any group above it was given. A leader then links a
list by choosing among the audiences its group may use, and sees no other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Select, String, Table, UniqueConstraint, exists, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mcbridge.encryption import EncryptedText
from mcbridge.models.base import Base, ref, table_name
from mcbridge.models.groups import Group


def grants(name: str, owner: str, owner_table: str) -> Table:
    """Which groups were given a connection or an audience (one row per group)."""
    return Table(
        table_name(name),
        Base.metadata,
        Column(owner, ForeignKey(ref(owner_table), ondelete="CASCADE"), primary_key=True),
        Column(
            "group_id", ForeignKey(ref("groups"), ondelete="CASCADE"), primary_key=True, index=True
        ),
    )


connection_groups = grants("mailchimp_connection_groups", "connection_id", "mailchimp_connections")
audience_groups = grants("mailchimp_audience_groups", "audience_id", "mailchimp_audiences")


class MailchimpConnection(Base):
    """One Mailchimp API key, owned by the administrators."""

    __tablename__ = table_name("mailchimp_connections")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    api_key: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime]

    groups: Mapped[list[Group]] = relationship(secondary=connection_groups, order_by=Group.name)
    audiences: Mapped[list[ConnectionAudience]] = relationship(
        back_populates="connection",
        cascade="all, delete-orphan",
        order_by="ConnectionAudience.name",
    )

    def __str__(self) -> str:
        return self.name


class ConnectionAudience(Base):
    """An audience of a connection, as Mailchimp last listed it, and who may use it."""

    __tablename__ = table_name("mailchimp_audiences")
    __table_args__ = (UniqueConstraint("connection_id", "audience_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailchimp_connections"), ondelete="CASCADE"), index=True
    )
    audience_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    member_count: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime]

    connection: Mapped[MailchimpConnection] = relationship(back_populates="audiences")
    groups: Mapped[list[Group]] = relationship(secondary=audience_groups, order_by=Group.name)

    def __str__(self) -> str:
        return f"{self.connection.name} › {self.name} ({self.audience_id})"


def usable_by(group: Group) -> Select[tuple[ConnectionAudience]]:
    """The audiences a list of `group` may be linked to: both the audience and its
    connection were given to the group or to a group above it."""
    lineage = [node.id for node in [*group.ancestors(), group]]
    return (
        select(ConnectionAudience)
        .join(MailchimpConnection)
        .where(
            exists().where(
                audience_groups.c.audience_id == ConnectionAudience.id,
                audience_groups.c.group_id.in_(lineage),
            ),
            exists().where(
                connection_groups.c.connection_id == MailchimpConnection.id,
                connection_groups.c.group_id.in_(lineage),
            ),
        )
        .order_by(MailchimpConnection.name, ConnectionAudience.name)
    )
