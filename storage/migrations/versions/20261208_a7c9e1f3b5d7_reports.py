"""reports: a practitioner's or a peer's word to the moderators about an account and its posts

Revision ID: a7c9e1f3b5d7
Revises: f4b6d8e0a2c3
Create Date: 2026-12-08 12:00:00.000000

`reports` holds what POST /api/v1/reports files and what a peer's Flag brings: who reports, the
account reported, the posts named, a comment, a category and the instance rules broken, whether a Flag went to the
account's server, and, once a moderator resolves it, when and by whom (storage.models.reports).
"""

import sqlalchemy as sa
from alembic import op

revision = 'a7c9e1f3b5d7'
down_revision = 'f4b6d8e0a2c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reports',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('reporter_id', sa.BigInteger(), nullable=False),
        sa.Column('target_id', sa.BigInteger(), nullable=False),
        sa.Column('post_ids', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('category', sa.String(length=16), nullable=False),
        sa.Column('rule_ids', sa.JSON(), nullable=False),
        sa.Column('forwarded', sa.Boolean(), nullable=False),
        sa.Column('uri', sa.String(length=2048), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['reporter_id'], ['actors.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_id'], ['actors.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uri'),
    )
    op.create_index('ix_reports_target_id', 'reports', ['target_id'])
    op.create_index('ix_reports_reporter_id', 'reports', ['reporter_id'])


def downgrade() -> None:
    op.drop_index('ix_reports_reporter_id', table_name='reports')
    op.drop_index('ix_reports_target_id', table_name='reports')
    op.drop_table('reports')
