"""hospital paths, parole reviews, key stages, hand-off withdrawal

Revision ID: 5fdd82e95c3c
Revises: 36cc2d723f62
Create Date: 2026-11-27 04:15:18

New tables: hospital (DVCVA ss 36A/42A: the hospital a victim is told of), and
victimpersonalstatement (its text sealed at rest by models.sealed.SealedText, stored as TEXT).
New columns: offendercase.finding / restricted / restriction_ends_on / hospital_id (the hospital
paths, ss 36-44A); casehandoff.withdrawn_* (a hand-off withdrawn before it switched).
New enum members for letters, tasks, sentence types and hand-off steps. On PostgreSQL each enum
type gains its members; SQLite keeps enums as VARCHAR sized to the longest member.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # autogenerate writes AutoString and UTCDateTime from here
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5fdd82e95c3c"
down_revision: str | Sequence[str] | None = "36cc2d723f62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FINDING = sa.Enum("CONVICTED", "NOT_GUILTY_INSANITY", "UNDER_DISABILITY", name="finding")
WITHDRAWAL_REASON = sa.Enum(
    "REQUESTED_IN_ERROR",
    "CIRCUMSTANCES_CHANGED",
    "REFUSED_BY_RECEIVER",
    "HANDOFF_FAILED",
    name="withdrawalreason",
)
NEW_MEMBERS: dict[str, tuple[str, ...]] = {
    "letterkind": (
        "HOSPITAL_OFFER",
        "HOSPITAL_DETAILS",
        "HOSPITAL_NOTICE",
        "DISCHARGE_REPRESENTATIONS_RECEIVED",
        "DISCHARGE_CONDITIONS",
        "DISCHARGE_CONDITION_ENDED",
        "DISCHARGED",
        "REMITTED",
        "RESTRICTION_LIFTED",
        "RESTRICTION_VARIED",
        "TRIBUNAL_APPLICATION",
        "PAROLE_INVITATION",
        "VPS_RECEIVED",
        "VPS_RECEIVED_LATE",
        "READ_VPS_GRANTED",
        "READ_VPS_REFUSED",
        "PAROLE_HEARING_ADJOURNED",
        "PAROLE_RELEASE",
        "PAROLE_NO_RELEASE",
        "PAROLE_OPEN_CONDITIONS",
        "PAROLE_SUMMARY_REQUESTED",
    ),
    "taskkind": (
        "RECORD_HOSPITAL",
        "URGENT_KEY_STAGE",
        "PAROLE_VPS",
        "PAROLE_READ_APPLICATION",
        "PAROLE_DECISION_OVERDUE",
        "PAROLE_SUMMARY",
    ),
    "sentencetype": ("HOSPITAL_ORDER",),
    "handoffstep": ("WITHDRAWN",),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # PostgreSQL 12+ allows these inside a transaction (the values are not used in it).
        for type_name, members in NEW_MEMBERS.items():
            for member in members:
                op.execute(f"ALTER TYPE {type_name} ADD VALUE IF NOT EXISTS '{member}'")
    else:
        # DISCHARGE_REPRESENTATIONS_RECEIVED (34) is the longest letter kind now.
        with op.batch_alter_table("correspondence", schema=None) as batch_op:
            batch_op.alter_column(
                "kind", existing_type=sa.VARCHAR(length=24), type_=sa.VARCHAR(length=34)
            )
    FINDING.create(bind, checkfirst=True)
    WITHDRAWAL_REASON.create(bind, checkfirst=True)

    op.create_table(
        "hospital",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("postcode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "victimpersonalstatement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("victim_id", sa.Integer(), nullable=False),
        # models.sealed.SealedText: ciphertext, stored as TEXT.
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("received_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("forwarded_to", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("forwarded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("late_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["offendercase.id"]),
        sa.ForeignKeyConstraint(["victim_id"], ["victim.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("victimpersonalstatement", schema=None) as batch_op:
        for column in ("case_id", "review_id", "victim_id"):
            batch_op.create_index(
                batch_op.f(f"ix_victimpersonalstatement_{column}"), [column], unique=False
            )

    with op.batch_alter_table("casehandoff", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("withdrawn_reason", WITHDRAWAL_REASON, nullable=True))
        batch_op.add_column(
            sa.Column("withdrawn_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True)
        )

    with op.batch_alter_table("offendercase", schema=None) as batch_op:
        # Every case registered before the hospital paths is a conviction, unrestricted.
        batch_op.add_column(
            sa.Column("finding", FINDING, nullable=False, server_default="CONVICTED")
        )
        batch_op.add_column(
            sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("restriction_ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("hospital_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_offendercase_hospital_id_hospital", "hospital", ["hospital_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("offendercase", schema=None) as batch_op:
        batch_op.drop_constraint("fk_offendercase_hospital_id_hospital", type_="foreignkey")
        batch_op.drop_column("hospital_id")
        batch_op.drop_column("restriction_ends_on")
        batch_op.drop_column("restricted")
        batch_op.drop_column("finding")

    with op.batch_alter_table("casehandoff", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_at")

    with op.batch_alter_table("victimpersonalstatement", schema=None) as batch_op:
        for column in ("victim_id", "review_id", "case_id"):
            batch_op.drop_index(batch_op.f(f"ix_victimpersonalstatement_{column}"))

    op.drop_table("victimpersonalstatement")
    op.drop_table("hospital")
    bind = op.get_bind()
    WITHDRAWAL_REASON.drop(bind, checkfirst=True)
    FINDING.drop(bind, checkfirst=True)
    if bind.dialect.name != "postgresql":
        with op.batch_alter_table("correspondence", schema=None) as batch_op:
            batch_op.alter_column(
                "kind", existing_type=sa.VARCHAR(length=34), type_=sa.VARCHAR(length=24)
            )
    # PostgreSQL cannot drop an enum member; unused extra members are harmless.
