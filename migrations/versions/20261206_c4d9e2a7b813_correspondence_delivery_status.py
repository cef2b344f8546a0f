"""correspondence delivery status

Revision ID: c4d9e2a7b813
Revises: e1f2a3b4c5d6
Create Date: 2026-12-06 02:10:00

Correspondence gains what became of an email or text (models/delivery.py): Notify's status
(or ours when Notify refused it), when it was last learnt, and the status poll that told the
letter's workflow it was undelivered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4d9e2a7b813"
down_revision: str | Sequence[str] | None = "e1f2a3b4c5d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("correspondence", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivery_status", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(
            sa.Column("status_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "undelivered_notice", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_correspondence_delivery_status"), ["delivery_status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("correspondence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_correspondence_delivery_status"))
        batch_op.drop_column("undelivered_notice")
        batch_op.drop_column("status_at")
        batch_op.drop_column("delivery_status")
