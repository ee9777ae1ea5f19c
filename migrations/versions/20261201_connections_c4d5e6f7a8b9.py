"""Mailchimp connections an administrator controls: keys move from lists to connections.

Each distinct API key of the linked lists becomes one connection, given to those lists'
groups, with their audiences given to the same groups, so nobody types a key again. Two
lists of one audience that shared a managed tag keep the first's; the others get their
list id appended (their exports then treat the old contacts as not theirs: nothing is
archived by mistake).

Revision ID: c4d5e6f7a8b9
Revises: a1b2c3d4e5f6
Create Date: 2026-12-01 05:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from mcbridge.models.history import on_unprefixed_tables


# revision identifiers, used by Alembic.
revision = 'c4d5e6f7a8b9'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    if not on_unprefixed_tables():
        return  # a new database: see mcbridge.models.history
    op.create_table(
        'mailchimp_connections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('api_key', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'mailchimp_audiences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('connection_id', sa.Integer(), nullable=False),
        sa.Column('audience_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('member_count', sa.Integer(), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['connection_id'], ['mailchimp_connections.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('connection_id', 'audience_id'),
    )
    op.create_index('ix_mailchimp_audiences_connection_id', 'mailchimp_audiences', ['connection_id'])
    for table, owner, owner_table in (
        ('mailchimp_connection_groups', 'connection_id', 'mailchimp_connections'),
        ('mailchimp_audience_groups', 'audience_id', 'mailchimp_audiences'),
    ):
        op.create_table(
            table,
            sa.Column(owner, sa.Integer(), nullable=False),
            sa.Column('group_id', sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([owner], [f'{owner_table}.id'], ondelete='CASCADE'),
            sa.ForeignKeyConstraint(['group_id'], ['groups.id'], ondelete='CASCADE'),
            sa.PrimaryKeyConstraint(owner, 'group_id'),
        )
        op.create_index(f'ix_{table}_group_id', table, ['group_id'])
    with op.batch_alter_table('mailing_lists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connection_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_mailing_lists_connection_id', ['connection_id'])
        batch_op.create_foreign_key(
            'fk_mailing_lists_connection', 'mailchimp_connections', ['connection_id'], ['id'],
            ondelete='SET NULL',
        )
    move_keys_to_connections()
    separate_shared_tags()
    with op.batch_alter_table('mailing_lists', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_audience_tag', ['mailchimp_list_id', 'mailchimp_tag'])
        batch_op.drop_column('mailchimp_api_key')


def plain_key(token):
    """The key behind a stored token, to give lists that share a key one connection, and
    the connection's name; a token no configured key opens stays a connection of its own."""
    try:
        from mcbridge.encryption import decrypt
        from mcbridge.mailchimp.keys import masked

        key = decrypt(token)
        return key, f"Mailchimp {masked(key)}"
    except Exception:  # no app, no key: keep the lists apart, lose nothing
        return token, "Mailchimp (migrated)"


def move_keys_to_connections():
    bind = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    lists = bind.execute(sa.text(
        "SELECT id, group_id, mailchimp_api_key, mailchimp_list_id, mailchimp_audience_name "
        "FROM mailing_lists WHERE mailchimp_api_key IS NOT NULL ORDER BY id"
    )).all()
    connections = {}
    audiences = {}
    for list_id, group_id, token, audience, audience_name in lists:
        key, name = plain_key(token)
        if key not in connections:
            connections[key] = bind.execute(
                sa.text(
                    "INSERT INTO mailchimp_connections (name, api_key, created_at) "
                    "VALUES (:name, :token, :now) RETURNING id"
                ),
                {"name": name, "token": token, "now": now},
            ).scalar_one()
        connection = connections[key]
        grant(bind, 'mailchimp_connection_groups', 'connection_id', connection, group_id)
        if audience:
            if (connection, audience) not in audiences:
                audiences[connection, audience] = bind.execute(
                    sa.text(
                        "INSERT INTO mailchimp_audiences "
                        "(connection_id, audience_id, name, member_count, refreshed_at) "
                        "VALUES (:c, :a, :n, 0, :now) RETURNING id"
                    ),
                    {"c": connection, "a": audience, "n": audience_name or audience, "now": now},
                ).scalar_one()
            grant(bind, 'mailchimp_audience_groups', 'audience_id', audiences[connection, audience], group_id)
        bind.execute(
            sa.text("UPDATE mailing_lists SET connection_id = :c WHERE id = :id"),
            {"c": connection, "id": list_id},
        )


def grant(bind, table, owner, owner_id, group_id):
    found = bind.execute(
        sa.text(f"SELECT 1 FROM {table} WHERE {owner} = :o AND group_id = :g"),
        {"o": owner_id, "g": group_id},
    ).first()
    if found is None:
        bind.execute(
            sa.text(f"INSERT INTO {table} ({owner}, group_id) VALUES (:o, :g)"),
            {"o": owner_id, "g": group_id},
        )


def separate_shared_tags():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, mailchimp_list_id, mailchimp_tag FROM mailing_lists "
        "WHERE mailchimp_list_id IS NOT NULL AND mailchimp_tag IS NOT NULL ORDER BY id"
    )).all()
    seen = set()
    for list_id, audience, tag in rows:
        if (audience, tag) in seen:
            bind.execute(
                sa.text("UPDATE mailing_lists SET mailchimp_tag = :t WHERE id = :id"),
                {"t": f"{tag[:90]} #{list_id}", "id": list_id},
            )
        seen.add((audience, tag))


def downgrade():
    if not on_unprefixed_tables():
        return  # a new database: see mcbridge.models.history
    with op.batch_alter_table('mailing_lists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mailchimp_api_key', sa.Text(), nullable=True))
    op.execute(
        "UPDATE mailing_lists SET mailchimp_api_key = (SELECT api_key FROM mailchimp_connections "
        "WHERE mailchimp_connections.id = mailing_lists.connection_id)"
    )
    with op.batch_alter_table('mailing_lists', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audience_tag', type_='unique')
        batch_op.drop_constraint('fk_mailing_lists_connection', type_='foreignkey')
        batch_op.drop_index('ix_mailing_lists_connection_id')
        batch_op.drop_column('connection_id')
    for table in ('mailchimp_audience_groups', 'mailchimp_connection_groups'):
        op.drop_index(f'ix_{table}_group_id', table_name=table)
        op.drop_table(table)
    op.drop_index('ix_mailchimp_audiences_connection_id', table_name='mailchimp_audiences')
    op.drop_table('mailchimp_audiences')
    op.drop_table('mailchimp_connections')
