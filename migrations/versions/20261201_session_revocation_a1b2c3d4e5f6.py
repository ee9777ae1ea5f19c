"""Server-side revocation of sessions: a per-user session token, part of the id that
Flask-Login keeps in the session and remember-me cookies, rotated on sign-out and password
change. Each existing account gets its own random token; cookies issued before name none.

Revision ID: a1b2c3d4e5f6
Revises: 3f1c2a9b7d44
Create Date: 2026-12-01 05:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa

from mcbridge.models.history import on_unprefixed_tables


# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = '3f1c2a9b7d44'
branch_labels = None
depends_on = None


def upgrade():
    if not on_unprefixed_tables():
        return  # a new database: see mcbridge.models.history
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))

    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(32))
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    if not on_unprefixed_tables():
        return  # a new database: see mcbridge.models.history
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
