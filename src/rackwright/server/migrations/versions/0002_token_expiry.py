"""API tokens may expire: ``api_tokens.expires_at`` (NULL: until revoked).

The web UI's sign-in issues a token that ends with its session (12 h) and sign-out revokes it;
tokens issued before this revision, and API tokens, keep no expiry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
