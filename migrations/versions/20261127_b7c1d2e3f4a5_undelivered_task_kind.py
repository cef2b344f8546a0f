"""undelivered task kind

Revision ID: b7c1d2e3f4a5
Revises: 6d5e58654763
Create Date: 2026-11-27 00:10:00

TaskKind gains UNDELIVERED (an email or text the provider refused: a VLO must reach the victim
another way). On PostgreSQL the enum type gains the member; SQLite stores enums as text.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b7c1d2e3f4a5"
down_revision: str | Sequence[str] | None = "6d5e58654763"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostgreSQL 12+ allows this inside a transaction (the value is not used in it).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE taskkind ADD VALUE IF NOT EXISTS 'UNDELIVERED'")


def downgrade() -> None:
    # PostgreSQL cannot drop an enum member; an unused extra member is harmless.
    pass
