"""Who must sign a design is fixed when its review starts: ``designs.signers`` (NULL in draft).

Before, the organisations that had to approve were those the design was shared with at the moment of
approval, so an owner could unshare its partner, approve alone and share again. Designs already past
draft get the organisations that read them now.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("designs", sa.Column("signers", sa.JSON(), nullable=True))
    connection = op.get_bind()
    designs = sa.table(
        "designs",
        sa.column("id", sa.Integer),
        sa.column("org_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("signers", sa.JSON),
    )
    organisations = sa.table("organisations", sa.column("id", sa.Integer), sa.column("slug", sa.String))
    shares = sa.table("design_shares", sa.column("design_id", sa.Integer), sa.column("org_id", sa.Integer))
    slugs = dict(connection.execute(sa.select(organisations.c.id, organisations.c.slug)).all())
    for design_id, org_id in connection.execute(
        sa.select(designs.c.id, designs.c.org_id).where(designs.c.status != "draft")
    ).all():
        partners = connection.execute(sa.select(shares.c.org_id).where(shares.c.design_id == design_id)).scalars()
        signers = [slugs[org_id]] + sorted(slugs[partner] for partner in partners)
        connection.execute(designs.update().where(designs.c.id == design_id).values(signers=signers))


def downgrade() -> None:
    with op.batch_alter_table("designs", schema=None) as batch_op:
        batch_op.drop_column("signers")
