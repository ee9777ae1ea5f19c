"""Table prefix: every table of mcbridge is named `<prefix><name>` (MCBRIDGE_TABLE_PREFIX,
`mcbridge_` by default), so mcbridge can live in a host application's database next to the
host's own `users`, `groups` or `people`.

A new database gets mcbridge's whole schema here, prefixed (the revisions before this one
only run on installations from before the prefix, see mcbridge.models.history). On such an
installation, every row then moves to the prefixed table of the same name, ids kept, and
the unprefixed tables go. The rows are copied rather than the tables renamed so that every
index and constraint also gets its prefixed name: PostgreSQL keeps index names in one
namespace per schema, and SQLite cannot rename a constraint. The environment then moves
the version to mcbridge's own version table (migrations/env.py).

Revision ID: e7f8a9b0c1d2
Revises: c4d5e6f7a8b9
Create Date: 2026-12-01 06:18:43

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P
from mcbridge.models.history import on_unprefixed_tables


# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None

# Parents before children: the order rows can be copied in with foreign keys checked.
TABLES = (
    'groups',
    'mailchimp_connections',
    'people',
    'role_types',
    'additional_emails',
    'mailchimp_audiences',
    'mailchimp_connection_groups',
    'roles',
    'users',
    'mailchimp_audience_groups',
    'mailing_lists',
    'audience_members',
    'bring_back_requests',
    'mailchimp_events',
    'pending_batches',
    'refused_addresses',
    'subscriptions',
    'sync_runs',
    'subscription_role_types',
    'sync_issues',
)


def upgrade():
    create_tables()
    if on_unprefixed_tables():
        move_rows()
        for name in reversed(TABLES):
            op.drop_table(name)


def move_rows():
    """Each unprefixed table's rows into its prefixed twin, ids and all; PostgreSQL's id
    sequences then continue after the highest id copied."""
    bind = op.get_bind()
    for name in TABLES:
        columns = [sa.column(column['name']) for column in sa.inspect(bind).get_columns(name)]
        source = sa.table(name, *columns)
        target = sa.table(f'{P}{name}', *[sa.column(column.name) for column in columns])
        bind.execute(target.insert().from_select([c.name for c in columns], sa.select(*source.c)))
        if bind.dialect.name == 'postgresql' and 'id' in source.c:
            bind.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence(:table, 'id'), "
                    "COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM " + f'"{P}{name}"'
                ),
                {'table': f'"{P}{name}"'},
            )


def create_tables():
    op.create_table(f'{P}groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], [f'{P}groups.id'], name=op.f(f'fk_{P}groups_parent_id_{P}groups')),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}groups'))
    )
    with op.batch_alter_table(f'{P}groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}groups_parent_id'), ['parent_id'], unique=False)

    op.create_table(f'{P}mailchimp_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('api_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}mailchimp_connections'))
    )
    op.create_table(f'{P}people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('nickname', sa.String(length=100), nullable=True),
    sa.Column('gender', sa.String(length=10), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_bounced_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}people'))
    )
    with op.batch_alter_table(f'{P}people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}people_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}people_first_name'), ['first_name'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}people_last_name'), ['last_name'], unique=False)

    op.create_table(f'{P}role_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('manages', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}role_types')),
    sa.UniqueConstraint('name', name=op.f(f'uq_{P}role_types_name'))
    )
    op.create_table(f'{P}additional_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=True),
    sa.Column('mailings', sa.Boolean(), nullable=False),
    sa.Column('bounced_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], [f'{P}people.id'], name=op.f(f'fk_{P}additional_emails_person_id_{P}people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}additional_emails'))
    )
    with op.batch_alter_table(f'{P}additional_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}additional_emails_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}additional_emails_person_id'), ['person_id'], unique=False)

    op.create_table(f'{P}mailchimp_audiences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('audience_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], [f'{P}mailchimp_connections.id'], name=op.f(f'fk_{P}mailchimp_audiences_connection_id_{P}mailchimp_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}mailchimp_audiences')),
    sa.UniqueConstraint('connection_id', 'audience_id', name=op.f(f'uq_{P}mailchimp_audiences_connection_id'))
    )
    with op.batch_alter_table(f'{P}mailchimp_audiences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}mailchimp_audiences_connection_id'), ['connection_id'], unique=False)

    op.create_table(f'{P}mailchimp_connection_groups',
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], [f'{P}mailchimp_connections.id'], name=op.f(f'fk_{P}mailchimp_connection_groups_connection_id_{P}mailchimp_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], [f'{P}groups.id'], name=op.f(f'fk_{P}mailchimp_connection_groups_group_id_{P}groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('connection_id', 'group_id', name=op.f(f'pk_{P}mailchimp_connection_groups'))
    )
    with op.batch_alter_table(f'{P}mailchimp_connection_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}mailchimp_connection_groups_group_id'), ['group_id'], unique=False)

    op.create_table(f'{P}roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('role_type_id', sa.Integer(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.CheckConstraint('start_on IS NULL OR end_on IS NULL OR start_on <= end_on', name=op.f(f'ck_{P}roles_dates_in_order')),
    sa.ForeignKeyConstraint(['group_id'], [f'{P}groups.id'], name=op.f(f'fk_{P}roles_group_id_{P}groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], [f'{P}people.id'], name=op.f(f'fk_{P}roles_person_id_{P}people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_type_id'], [f'{P}role_types.id'], name=op.f(f'fk_{P}roles_role_type_id_{P}role_types')),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}roles'))
    )
    with op.batch_alter_table(f'{P}roles', schema=None) as batch_op:
        batch_op.create_index(f'ix_{P}roles_group_type', ['group_id', 'role_type_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}roles_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}roles_role_type_id'), ['role_type_id'], unique=False)

    op.create_table(f'{P}users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], [f'{P}people.id'], name=op.f(f'fk_{P}users_person_id_{P}people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}users')),
    sa.UniqueConstraint('email', name=op.f(f'uq_{P}users_email')),
    sa.UniqueConstraint('person_id', name=op.f(f'uq_{P}users_person_id'))
    )
    op.create_table(f'{P}mailchimp_audience_groups',
    sa.Column('audience_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['audience_id'], [f'{P}mailchimp_audiences.id'], name=op.f(f'fk_{P}mailchimp_audience_groups_audience_id_{P}mailchimp_audiences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], [f'{P}groups.id'], name=op.f(f'fk_{P}mailchimp_audience_groups_group_id_{P}groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('audience_id', 'group_id', name=op.f(f'pk_{P}mailchimp_audience_groups'))
    )
    with op.batch_alter_table(f'{P}mailchimp_audience_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}mailchimp_audience_groups_group_id'), ['group_id'], unique=False)

    op.create_table(f'{P}mailing_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('mailchimp_list_id', sa.String(length=40), nullable=True),
    sa.Column('mailchimp_audience_name', sa.String(length=200), nullable=True),
    sa.Column('consent_by_id', sa.Integer(), nullable=True),
    sa.Column('consent_at', sa.DateTime(), nullable=True),
    sa.Column('merge_field_map', sa.JSON(), nullable=True),
    sa.Column('role_tags', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('webhook_id', sa.String(length=40), nullable=True),
    sa.Column('webhook_secret_hash', sa.String(length=64), nullable=True),
    sa.Column('webhook_error', sa.Text(), nullable=True),
    sa.Column('sync_all_delivery_addresses', sa.Boolean(), nullable=False),
    sa.Column('mailchimp_tag', sa.String(length=100), nullable=True),
    sa.Column('audience_changed_since', sa.String(length=40), nullable=True),
    sa.Column('audience_read_at', sa.DateTime(), nullable=True),
    sa.Column('audience_fields', sa.String(length=200), nullable=True),
    sa.Column('last_sync_state', sa.String(length=10), nullable=True),
    sa.Column('last_synced_at', sa.DateTime(), nullable=True),
    sa.Column('failure_streak', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], [f'{P}mailchimp_connections.id'], name=op.f(f'fk_{P}mailing_lists_connection_id_{P}mailchimp_connections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consent_by_id'], [f'{P}users.id'], name=op.f(f'fk_{P}mailing_lists_consent_by_id_{P}users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], [f'{P}groups.id'], name=op.f(f'fk_{P}mailing_lists_group_id_{P}groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}mailing_lists')),
    sa.UniqueConstraint('mailchimp_list_id', 'mailchimp_tag', name=f'uq_{P}audience_tag')
    )
    with op.batch_alter_table(f'{P}mailing_lists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}mailing_lists_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}mailing_lists_group_id'), ['group_id'], unique=False)

    op.create_table(f'{P}audience_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('managed', sa.Boolean(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('tags', sa.Text(), server_default='', nullable=False),
    sa.Column('owned_tags', sa.Text(), server_default='', nullable=False),
    sa.Column('read_token', sa.String(length=16), nullable=True),
    sa.Column('last_changed', sa.String(length=40), nullable=True),
    sa.Column(f'archived_by_{P}at', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}audience_members_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}audience_members')),
    sa.UniqueConstraint('mailing_list_id', 'email', name=op.f(f'uq_{P}audience_members_mailing_list_id'))
    )
    op.create_table(f'{P}bring_back_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}bring_back_requests_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], [f'{P}users.id'], name=op.f(f'fk_{P}bring_back_requests_requested_by_id_{P}users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}bring_back_requests'))
    )
    with op.batch_alter_table(f'{P}bring_back_requests', schema=None) as batch_op:
        batch_op.create_index(f'ix_{P}bring_back_list_email', ['mailing_list_id', 'email'], unique=False)

    op.create_table(f'{P}mailchimp_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('new_email', sa.String(length=254), nullable=True),
    sa.Column('fired_at', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('review', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}mailchimp_events_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}mailchimp_events')),
    sa.UniqueConstraint('mailing_list_id', 'kind', 'email', 'fired_at', name=f'uq_{P}event_once')
    )
    with op.batch_alter_table(f'{P}mailchimp_events', schema=None) as batch_op:
        batch_op.create_index(f'ix_{P}mailchimp_events_list_email', ['mailing_list_id', 'email'], unique=False)

    op.create_table(f'{P}pending_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}pending_batches_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}pending_batches'))
    )
    with op.batch_alter_table(f'{P}pending_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}pending_batches_mailing_list_id'), ['mailing_list_id'], unique=False)

    op.create_table(f'{P}refused_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('refused_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}refused_addresses_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}refused_addresses')),
    sa.UniqueConstraint('mailing_list_id', 'email', name=op.f(f'uq_{P}refused_addresses_mailing_list_id'))
    )
    with op.batch_alter_table(f'{P}refused_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}refused_addresses_mailing_list_id'), ['mailing_list_id'], unique=False)

    op.create_table(f'{P}subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.CheckConstraint('(group_id IS NOT NULL AND person_id IS NULL AND excluded = false) OR (group_id IS NULL AND person_id IS NOT NULL)', name=op.f(f'ck_{P}subscriptions_one_kind')),
    sa.ForeignKeyConstraint(['group_id'], [f'{P}groups.id'], name=op.f(f'fk_{P}subscriptions_group_id_{P}groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}subscriptions_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], [f'{P}people.id'], name=op.f(f'fk_{P}subscriptions_person_id_{P}people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}subscriptions'))
    )
    with op.batch_alter_table(f'{P}subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}subscriptions_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}subscriptions_mailing_list_id'), ['mailing_list_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{P}subscriptions_person_id'), ['person_id'], unique=False)

    op.create_table(f'{P}sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailing_list_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('trigger', sa.String(length=10), nullable=False),
    sa.Column('triggered_by_id', sa.Integer(), nullable=True),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('failure', sa.String(length=10), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('resubscribed', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Integer(), nullable=False),
    sa.Column('untagged', sa.Integer(), nullable=False),
    sa.Column('kept_unsubscribed', sa.Integer(), nullable=False),
    sa.Column('archived_elsewhere', sa.Integer(), server_default='0', nullable=False),
    sa.Column('already_in_audience', sa.Integer(), server_default='0', nullable=False),
    sa.Column('bounced', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('skipped_no_email', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('unchanged_members', sa.Integer(), nullable=False),
    sa.Column('write_calls', sa.Integer(), nullable=False),
    sa.Column('read_calls', sa.Integer(), nullable=False),
    sa.Column('preview', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['mailing_list_id'], [f'{P}mailing_lists.id'], name=op.f(f'fk_{P}sync_runs_mailing_list_id_{P}mailing_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['triggered_by_id'], [f'{P}users.id'], name=op.f(f'fk_{P}sync_runs_triggered_by_id_{P}users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}sync_runs'))
    )
    with op.batch_alter_table(f'{P}sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}sync_runs_job_id'), ['job_id'], unique=False)
        batch_op.create_index(f'ix_{P}sync_runs_list_started', ['mailing_list_id', 'created_at'], unique=False)

    op.create_table(f'{P}subscription_role_types',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('role_type_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['role_type_id'], [f'{P}role_types.id'], name=op.f(f'fk_{P}subscription_role_types_role_type_id_{P}role_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], [f'{P}subscriptions.id'], name=op.f(f'fk_{P}subscription_role_types_subscription_id_{P}subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'role_type_id', name=op.f(f'pk_{P}subscription_role_types'))
    )
    with op.batch_alter_table(f'{P}subscription_role_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}subscription_role_types_role_type_id'), ['role_type_id'], unique=False)

    op.create_table(f'{P}sync_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], [f'{P}sync_runs.id'], name=op.f(f'fk_{P}sync_issues_run_id_{P}sync_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{P}sync_issues'))
    )
    with op.batch_alter_table(f'{P}sync_issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}sync_issues_run_id'), ['run_id'], unique=False)


def downgrade():
    """Drops mcbridge's tables, which only an empty installation may lose: with data in
    them, restore the backup taken before the upgrade instead."""
    bind = op.get_bind()
    for name in TABLES:
        if bind.execute(sa.select(sa.literal(1)).select_from(sa.table(f'{P}{name}')).limit(1)).first():
            raise RuntimeError(
                f"{P}{name} holds rows: going below revision {revision} would delete them. "
                "Restore the backup taken before the upgrade instead."
            )
    for name in reversed(TABLES):
        op.drop_table(f'{P}{name}')
