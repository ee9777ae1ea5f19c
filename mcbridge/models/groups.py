"""Groups, role types and roles: who holds which role where, and since when."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql import ColumnElement, Select

from mcbridge.models.base import Base, named, ref, table_name

if TYPE_CHECKING:
    from mcbridge.models.people import Person

PATH_SEPARATOR = " / "


class Group(Base):
    """A node of the organisation tree (federation, region, club…), of any depth."""

    __tablename__ = table_name("groups")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey(ref("groups")), index=True)

    parent: Mapped[Group | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Group]] = relationship(back_populates="parent", order_by="Group.name")
    roles: Mapped[list[Role]] = relationship(back_populates="group")

    def ancestors(self) -> list[Group]:
        """Parents from the root down, so that a group can be shown by its path."""
        chain: list[Group] = []
        node = self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    @property
    def path(self) -> str:
        return PATH_SEPARATOR.join(g.name for g in [*self.ancestors(), self])

    def would_create_cycle(self, new_parent: Group | None) -> bool:
        """True when `new_parent` is this group or lies below it: the tree would loop."""
        node = new_parent
        while node is not None:
            if node is self or (self.id is not None and node.id == self.id):
                return True
            node = node.parent
        return False

    def __str__(self) -> str:
        return self.path


def subtree_ids(root_ids: Select | list[int]) -> Select:
    """Ids of the given groups and every group below them, as one recursive query.

    The tree can be of any depth; a recursive CTE keeps the walk inside the database on
    SQLite and PostgreSQL alike instead of one query per level. It is nested in the query
    it returns: two walks in one statement (a leader's scope and a group filter) would
    otherwise be two CTEs of one name at its top, which SQLAlchemy refuses.
    """
    roots = select(Group.id.label("id")).where(Group.id.in_(root_ids))
    tree = roots.cte("subtree", recursive=True, nesting=True)
    below = select(Group.id).join(tree, Group.parent_id == tree.c.id)
    tree = tree.union(below)
    return select(tree.c.id)


def lineage_ids(group_ids: list[int]) -> Select:
    """Ids of the given groups and every group above them, as one recursive query: the
    groups their paths name. UNION, not UNION ALL, so a cycle ends the walk."""
    start = select(Group.id.label("id"), Group.parent_id.label("parent_id"))
    tree = start.where(Group.id.in_(group_ids)).cte("lineage", recursive=True, nesting=True)
    above = select(Group.id, Group.parent_id).join(tree, Group.id == tree.c.parent_id)
    tree = tree.union(above)
    return select(tree.c.id)


def lineages(session: Session, group_ids: list[int]) -> list[Group]:
    """The groups `group_ids` name and every group above them, in one query, so that
    their paths print without a query per level: a parent the session holds is not read
    again. The session holds its objects weakly: keep the list while paths are printed."""
    return list(session.scalars(select(Group).where(Group.id.in_(lineage_ids(group_ids)))))


class RoleType(Base):
    """A kind of role (Leader, Member, Coach…); `manages` makes holders leaders of the group."""

    __tablename__ = table_name("role_types")

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    manages: Mapped[bool] = mapped_column(default=False)

    def __str__(self) -> str:
        return self.name


class Role(Base):
    """A person holding a role type in a group, between optional dates."""

    __tablename__ = table_name("roles")
    __table_args__ = (
        CheckConstraint(
            "start_on IS NULL OR end_on IS NULL OR start_on <= end_on", name="dates_in_order"
        ),
        Index(named("ix", "roles_group_type"), "group_id", "role_type_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey(ref("people"), ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey(ref("groups"), ondelete="CASCADE"))
    role_type_id: Mapped[int] = mapped_column(ForeignKey(ref("role_types")), index=True)
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]

    person: Mapped[Person] = relationship(back_populates="roles")
    group: Mapped[Group] = relationship(back_populates="roles")
    role_type: Mapped[RoleType] = relationship()

    def is_active(self, today: date) -> bool:
        return (self.start_on is None or self.start_on <= today) and (
            self.end_on is None or self.end_on >= today
        )

    def __str__(self) -> str:
        return f"{self.role_type} · {self.group}"


def role_is_active(today: date) -> ColumnElement[bool]:
    """SQL form of `Role.is_active`: the one definition used by recipients and permissions."""
    return and_(
        or_(Role.start_on.is_(None), Role.start_on <= today),
        or_(Role.end_on.is_(None), Role.end_on >= today),
    )
