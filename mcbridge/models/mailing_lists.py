"""Mailing lists and the rules (subscriptions) that decide who receives them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mcbridge.models.base import Base, named, ref, table_name
from mcbridge.models.connections import MailchimpConnection
from mcbridge.models.groups import Group, RoleType
from mcbridge.models.people import TAG_LENGTH, Person

if TYPE_CHECKING:
    from mcbridge.models.users import User

# A leader's decision on the contacts an audience already held (MailingList.adoption):
# adopt them at the next export, which then records ADOPTED; or leave them alone.
ADOPT, ADOPTED, LEAVE = "adopt", "adopted", "leave"

# A list's filters: every recipient passes them all.
FILTER_COLUMNS = (
    "filter_language",
    "filter_gender",
    "filter_min_age",
    "filter_max_age",
    "filter_field",
    "filter_condition",
    "filter_value",
)

subscription_role_types = Table(
    table_name("subscription_role_types"),
    Base.metadata,
    Column(
        "subscription_id",
        ForeignKey(ref("subscriptions"), ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "role_type_id",
        ForeignKey(ref("role_types"), ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class MailingList(Base):
    """A list owned by a group, optionally linked to a Mailchimp audience."""

    __tablename__ = table_name("mailing_lists")
    # A managed tag marks one list's contacts: no two lists of an audience may share it.
    __table_args__ = (
        UniqueConstraint("mailchimp_list_id", "mailchimp_tag", name=named("uq", "audience_tag")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey(ref("groups"), ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey(ref("mailchimp_connections"), ondelete="SET NULL"), index=True
    )
    mailchimp_list_id: Mapped[str | None] = mapped_column(String(40))
    mailchimp_audience_name: Mapped[str | None] = mapped_column(String(200))
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey(ref("users"), ondelete="SET NULL"))
    # Who gave consent, as the identity named them (a host's user has no account row).
    consent_by_label: Mapped[str | None] = mapped_column(String(255))
    consent_at: Mapped[datetime | None]
    merge_field_map: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    role_tags: Mapped[bool] = mapped_column(default=False, server_default=false())
    webhook_id: Mapped[str | None] = mapped_column(String(40))
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64))
    webhook_error: Mapped[str | None] = mapped_column(Text)
    sync_all_delivery_addresses: Mapped[bool] = mapped_column(default=False)
    mailchimp_tag: Mapped[str | None] = mapped_column(String(100))
    audience_changed_since: Mapped[str | None] = mapped_column(String(40))
    audience_read_at: Mapped[datetime | None]
    audience_fields: Mapped[str | None] = mapped_column(String(200))
    last_sync_state: Mapped[str | None] = mapped_column(String(10))
    last_synced_at: Mapped[datetime | None]
    failure_streak: Mapped[int] = mapped_column(default=0, server_default="0")
    # The brake (mcbridge.sync.brake); empty means the installation's default.
    brake_archive_share: Mapped[float | None] = mapped_column(Float)
    brake_archive_min: Mapped[int | None]
    brake_change_share: Mapped[float | None] = mapped_column(Float)
    # The reason of the last failure notice mailed to the leaders: not mailed again until
    # the reason changes (mcbridge.notices).
    notified_reason: Mapped[str | None] = mapped_column(String(40))
    # Filters on the whole list: a recipient must pass every one that is set.
    filter_language: Mapped[str | None] = mapped_column(String(2))
    filter_gender: Mapped[str | None] = mapped_column(String(10))
    filter_min_age: Mapped[int | None]
    filter_max_age: Mapped[int | None]
    # With all delivery addresses on: only those with one of these labels (none: all).
    delivery_labels: Mapped[list[str] | None] = mapped_column(JSON)
    # One condition on any person field (mcbridge.recipients): field, condition, value.
    filter_field: Mapped[str | None] = mapped_column(String(20))
    filter_condition: Mapped[str | None] = mapped_column(String(12))
    filter_value: Mapped[str | None] = mapped_column(String(200))
    # The contacts an audience already held when the list was linked: "adopt" (the next
    # export tags them as managed), "leave", or empty while undecided; who and when.
    adoption: Mapped[str | None] = mapped_column(String(10))
    adoption_by_label: Mapped[str | None] = mapped_column(String(255))
    adoption_at: Mapped[datetime | None]
    # On a GDPR audience, the permissions each contact the list adds gets:
    # [{"id": ..., "text": ..., "enabled": bool}].
    marketing_permissions: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)

    group: Mapped[Group] = relationship()
    connection: Mapped[MailchimpConnection | None] = relationship()
    consent_by: Mapped[User | None] = relationship()
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="mailing_list", cascade="all, delete-orphan", order_by="Subscription.id"
    )

    @property
    def mailchimp_api_key(self) -> str | None:
        """The key of the list's connection: an administrator's, never typed by a leader."""
        return self.connection.api_key if self.connection else None

    @property
    def is_linked(self) -> bool:
        return bool(self.connection_id and self.mailchimp_list_id)

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None

    @property
    def managed_tag(self) -> str:
        """The tag that marks, inside Mailchimp, the contacts this list added.

        It is stored rather than derived so that renaming the list keeps it, and so that a
        restored or second installation can be given the same tag and adopt its contacts.
        """
        return self.mailchimp_tag or f"mcbridge: {self.name}"[:100]

    def __str__(self) -> str:
        return self.name


class Subscription(Base):
    """One rule of a mailing list: a group with role types, or one person (maybe excluded).

    The two kinds share a table because the subscriber view lists them together and the
    recipient query reads them in one pass; the check constraint keeps each row one kind.
    """

    __tablename__ = table_name("subscriptions")
    __table_args__ = (
        CheckConstraint(
            "(group_id IS NOT NULL AND person_id IS NULL AND excluded = false)"
            " OR (group_id IS NULL AND person_id IS NOT NULL)",
            name="one_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_list_id: Mapped[int] = mapped_column(
        ForeignKey(ref("mailing_lists"), ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey(ref("groups"), ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey(ref("people"), ondelete="CASCADE"), index=True
    )
    excluded: Mapped[bool] = mapped_column(default=False)

    mailing_list: Mapped[MailingList] = relationship(back_populates="subscriptions")
    group: Mapped[Group | None] = relationship()
    person: Mapped[Person | None] = relationship()
    role_types: Mapped[list[RoleType]] = relationship(
        secondary=subscription_role_types, order_by=RoleType.name
    )
    tag_rules: Mapped[list[SubscriptionTag]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriptionTag.name"
    )

    @property
    def required_tags(self) -> list[str]:
        """A group rule with these reaches only people with at least one of them."""
        return [tag.name for tag in self.tag_rules if not tag.excluded]

    @required_tags.setter
    def required_tags(self, names: list[str]) -> None:
        self._set_tags(names, excluded=False)

    @property
    def excluded_tags(self) -> list[str]:
        """A group rule with these never reaches people with any of them."""
        return [tag.name for tag in self.tag_rules if tag.excluded]

    @excluded_tags.setter
    def excluded_tags(self, names: list[str]) -> None:
        self._set_tags(names, excluded=True)

    def _set_tags(self, names: list[str], excluded: bool) -> None:
        others = [tag for tag in self.tag_rules if tag.excluded != excluded]
        mine = [SubscriptionTag(name=name, excluded=excluded) for name in dict.fromkeys(names)]
        self.tag_rules = others + mine

    @property
    def is_role_rule(self) -> bool:
        return self.group_id is not None or self.group is not None


class SubscriptionTag(Base):
    """A tag a group rule requires (one of them suffices) or excludes.

    One row per (rule, tag): a tag is either required or excluded by a rule, never both.
    """

    __tablename__ = table_name("subscription_tags")

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey(ref("subscriptions"), ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(TAG_LENGTH), primary_key=True)
    excluded: Mapped[bool] = mapped_column(default=False)
