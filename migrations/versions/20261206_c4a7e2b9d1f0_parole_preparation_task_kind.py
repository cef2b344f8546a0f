"""parole preparation task kind

Revision ID: c4a7e2b9d1f0
Revises: 8d668f1c05b0
Create Date: 2026-12-06 02:00:00

TaskKind gains PAROLE_PREPARATION (a tariff / parole eligibility date nears: the VLO prepares
the victims for the Parole Board review). On PostgreSQL the enum type gains the member; SQLite
stores enums as text.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c4a7e2b9d1f0"
down_revision: str | Sequence[str] | None = "8d668f1c05b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostgreSQL 12+ allows this inside a transaction (the value is not used in it).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE taskkind ADD VALUE IF NOT EXISTS 'PAROLE_PREPARATION'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum member; an unused extra member is harmless.
    pass
