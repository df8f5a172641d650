"""articles: the uploads an article's author chose

Revision ID: c16c0b1c2d3e
Revises: c16b0a1b2c3d
Create Date: 2026-12-07 00:00:00.000000

`articles.media_ids` keeps the ids of the uploads (`media`) a draft or an article in review
will carry once published (their rows are attached to its post only then); NULL: none.
"""

import sqlalchemy as sa
from alembic import op

revision = 'c16c0b1c2d3e'
down_revision = 'c16b0a1b2c3d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('articles', sa.Column('media_ids', sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    op.drop_column('articles', 'media_ids')  # SQLite 3.35+ drops it in place
