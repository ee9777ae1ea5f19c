"""People and their email addresses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column, relationship, validates

from mcbridge.emails import normalize_email
from mcbridge.models.base import Base, named, ref, table_name
from mcbridge.models.groups import Role
from mcbridge.models.search_index import install_with_table

GENDERS = ("female", "male", "other")
TAG_LENGTH = 60
# The contact languages people may have: the organisation's (Swiss) languages and English,
# as Mailchimp's member `language` spells them.
LANGUAGES = ("de", "fr", "it", "en")


# What a person is, besides their address: read by list filters, merge fields and pages.
PROFILE_COLUMNS = (
    "first_name",
    "last_name",
    "nickname",
    "gender",
    "birthday",
    "company",
    "language",
)


# People in name order, ties by id: the order of every list of people, and its index.
PEOPLE_BY_NAME = ("last_name", "first_name", "id")


class Person(Base):
    """Someone the organisation knows; a recipient when a mailing list's rules reach them."""

    __tablename__ = table_name("people")
    # The People list's order: its first page is read off the index, not sorted.
    __table_args__ = (Index(named("ix", "people_name"), *PEOPLE_BY_NAME),)

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100), index=True)
    last_name: Mapped[str | None] = mapped_column(String(100))
    nickname: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(10))
    birthday: Mapped[date | None]
    company: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_bounced_at: Mapped[datetime | None]

    additional_emails: Mapped[list[AdditionalEmail]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="AdditionalEmail.id"
    )
    roles: Mapped[list[Role]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by=Role.id
    )
    tags: Mapped[list[PersonTag]] = relationship(
        cascade="all, delete-orphan", order_by="PersonTag.name"
    )

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    @tag_names.setter
    def tag_names(self, names: list[str]) -> None:
        """Keeps the rows of tags the person still has, so an unchanged tag is no write."""
        kept = {tag.name: tag for tag in self.tags}
        self.tags = [kept.get(name) or PersonTag(name=name) for name in dict.fromkeys(names)]

    @validates("email")
    def _normalize(self, _key: str, value: str | None) -> str | None:
        """Normalised; a new address is no longer the one that bounced."""
        address = normalize_email(value)
        if address != self.email:
            self.email_bounced_at = None
        return address

    @validates("language")
    def _no_blank_language(self, _key: str, value: str | None) -> str | None:
        """A form's empty choice means no language: NULL, as people imported without one."""
        return value or None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def __str__(self) -> str:
        label = self.full_name or self.nickname or f"#{self.id}"
        return f"{label} <{self.email}>" if self.email else label


install_with_table(Person.__table__)


def by_name() -> tuple[InstrumentedAttribute[Any], ...]:
    """Person's columns in `PEOPLE_BY_NAME` order, to sort a query of people by."""
    return tuple(getattr(Person, name) for name in PEOPLE_BY_NAME)


class AdditionalEmail(Base):
    """Another address of a person; `mailings` marks it as a delivery address for lists."""

    __tablename__ = table_name("additional_emails")

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey(ref("people"), ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    label: Mapped[str | None] = mapped_column(String(60))
    mailings: Mapped[bool] = mapped_column(default=True)
    bounced_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(back_populates="additional_emails")

    @validates("email")
    def _normalize(self, _key: str, value: str | None) -> str | None:
        address = normalize_email(value)
        if address != self.email:
            self.bounced_at = None
        return address

    def __str__(self) -> str:
        return f"{self.email} ({self.label})" if self.label else self.email


class PersonTag(Base):
    """A free tag on a person ("Vorstand", "J+S"): a group rule may require or exclude it.

    A row per (person, tag) rather than a text column, so a rule's tag test is an indexed
    set-based lookup, the same on SQLite and PostgreSQL.
    """

    __tablename__ = table_name("person_tags")

    person_id: Mapped[int] = mapped_column(
        ForeignKey(ref("people"), ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(TAG_LENGTH), primary_key=True, index=True)
