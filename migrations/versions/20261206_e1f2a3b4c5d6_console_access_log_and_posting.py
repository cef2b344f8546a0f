"""console: access refusals and letters posted

Revision ID: e1f2a3b4c5d6
Revises: c4a7e2b9d1f0
Create Date: 2026-12-06 02:30:00

The console (web/) logs every refusal of the access rules (service/access.py) in
`accessrefusal`: who, which action, own or other region, which case; IDs and kinds only. The
admin team marks letters posted: `correspondence.posted_at` and `posted_by`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes AutoString and UTCDateTime from here
from alembic import op

revision: str = "e1f2a3b4c5d6"
down_revision: str | Sequence[str] | None = "c4a7e2b9d1f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accessrefusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["offendercase.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_accessrefusal_at"), "accessrefusal", ["at"], unique=False)
    op.create_index(op.f("ix_accessrefusal_actor"), "accessrefusal", ["actor"], unique=False)
    op.create_index(op.f("ix_accessrefusal_case_id"), "accessrefusal", ["case_id"], unique=False)
    with op.batch_alter_table("correspondence") as batch:
        batch.add_column(sa.Column("posted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("posted_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("correspondence") as batch:
        batch.drop_column("posted_by")
        batch.drop_column("posted_at")
    op.drop_index(op.f("ix_accessrefusal_case_id"), table_name="accessrefusal")
    op.drop_index(op.f("ix_accessrefusal_actor"), table_name="accessrefusal")
    op.drop_index(op.f("ix_accessrefusal_at"), table_name="accessrefusal")
    op.drop_table("accessrefusal")
