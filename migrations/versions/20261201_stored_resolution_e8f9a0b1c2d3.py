"""Stored resolutions: the subscriber view pages, sorts and counts a list's recipients as
last resolved, and resolves again only when the recipients' data changed.

- `recipients_version`: one number that triggers on the people, their addresses and tags,
  roles, groups, role types, rules and lists' resolution settings bump on every change
  (a function and statement triggers on PostgreSQL, row triggers on SQLite).
- `stored_resolutions`: per list, the version and day it was resolved from, and its counts.
- `stored_people`, `stored_addresses`: whom the list reaches and the addresses it sends to,
  with the names the view sorts by.

Nothing is resolved here: each list resolves on its subscriber view's next visit.

The People list's order gets an index of its own (last name, first name, id), which
replaces the index on the last name alone: its first page is read off the index.

Revision ID: e8f9a0b1c2d3
Revises: d6e7f8a9b0c1
Create Date: 2026-12-01 13:30:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P
from mcbridge.models.resolution import drop_version_triggers, install_version_triggers


# revision identifiers, used by Alembic.
revision = 'e8f9a0b1c2d3'
down_revision = 'd6e7f8a9b0c1'
branch_labels = None
depends_on = None


def list_key():
    return sa.Column(
        'mailing_list_id',
        sa.Integer(),
        sa.ForeignKey(f'{P}mailing_lists.id', ondelete='CASCADE'),
        primary_key=True,
    )


NAME_ORDER = ['last_name', 'first_name', 'person_id']


def names():
    """The holder's names, copied into a stored row to sort by."""
    return [
        sa.Column('first_name', sa.String(length=100), nullable=True),
        sa.Column('last_name', sa.String(length=100), nullable=True),
    ]


def index(name, table, columns):
    op.create_index(f'ix_{P}{name}', f'{P}{table}', columns)


def upgrade():
    op.create_table(
        f'{P}recipients_version',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('version', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        f'{P}stored_resolutions',
        list_key(),
        sa.Column('version', sa.BigInteger(), nullable=True),
        sa.Column('day', sa.Date(), nullable=True),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('addresses', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
    )
    op.create_table(
        f'{P}stored_people',
        list_key(),
        sa.Column('person_id', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('via', sa.Integer(), nullable=False),
        sa.Column('without_address', sa.Boolean(), nullable=False),
        *names(),
    )
    index('stored_people_without_address', 'stored_people',
          ['mailing_list_id', 'without_address', *NAME_ORDER])
    op.create_table(
        f'{P}stored_addresses',
        list_key(),
        sa.Column('email', sa.String(length=254), primary_key=True),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('is_primary', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('via', sa.Integer(), nullable=False),
        *names(),
    )
    index('stored_addresses_order', 'stored_addresses', ['mailing_list_id', 'person_id', 'position'])
    index('stored_addresses_name', 'stored_addresses', ['mailing_list_id', *NAME_ORDER, 'email'])
    install_version_triggers(op.get_bind())
    op.drop_index(f'ix_{P}people_last_name', table_name=f'{P}people')
    index('people_name', 'people', ['last_name', 'first_name', 'id'])


def downgrade():
    op.drop_index(f'ix_{P}people_name', table_name=f'{P}people')
    op.create_index(f'ix_{P}people_last_name', f'{P}people', ['last_name'])
    drop_version_triggers(op.get_bind())
    op.drop_table(f'{P}stored_addresses')
    op.drop_table(f'{P}stored_people')
    op.drop_table(f'{P}stored_resolutions')
    op.drop_table(f'{P}recipients_version')
