"""Person tags, list filters and preferred labels: people carry free tags that a group rule
may require or exclude; a list may keep only recipients of a language, a gender or an age
range, and send only to the delivery addresses with chosen labels. Nothing is set for the
lists already there: they reach exactly whom they reached.

Revision ID: b1c2d3e4f5a6
Revises: b2c3d4e5f6a7
Create Date: 2026-12-01 07:30:00

"""
from alembic import op
import sqlalchemy as sa

from mcbridge.models.base import TABLE_PREFIX as P


# revision identifiers, used by Alembic.
revision = 'b1c2d3e4f5a6'
down_revision = 'b2c3d4e5f6a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(f'{P}person_tags',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], [f'{P}people.id'], name=op.f(f'fk_{P}person_tags_person_id_{P}people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'name', name=op.f(f'pk_{P}person_tags'))
    )
    with op.batch_alter_table(f'{P}person_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{P}person_tags_name'), ['name'], unique=False)

    op.create_table(f'{P}subscription_tags',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], [f'{P}subscriptions.id'], name=op.f(f'fk_{P}subscription_tags_subscription_id_{P}subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'name', name=op.f(f'pk_{P}subscription_tags'))
    )
    with op.batch_alter_table(f'{P}mailing_lists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filter_language', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('filter_gender', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('filter_min_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('filter_max_age', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('delivery_labels', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table(f'{P}mailing_lists', schema=None) as batch_op:
        batch_op.drop_column('delivery_labels')
        batch_op.drop_column('filter_max_age')
        batch_op.drop_column('filter_min_age')
        batch_op.drop_column('filter_gender')
        batch_op.drop_column('filter_language')
    op.drop_table(f'{P}subscription_tags')
    with op.batch_alter_table(f'{P}person_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f'ix_{P}person_tags_name'))
    op.drop_table(f'{P}person_tags')
