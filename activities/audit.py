"""The audit trail: every VLO action and automatic step, written in the same transaction as
the change it records, exactly once (an idempotency key per entry)."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from models.records import AuditEntry


def already_done(session: Session, idempotency_key: str) -> bool:
    found = session.exec(
        select(AuditEntry.id).where(AuditEntry.idempotency_key == idempotency_key)
    ).first()
    return found is not None


def append_audit(
    session: Session,
    *,
    case_id: int,
    actor: str,
    action: str,
    detail: str = "",
    victim_id: int | None = None,
    idempotency_key: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            idempotency_key=idempotency_key,
            case_id=case_id,
            victim_id=victim_id,
            actor=actor,
            action=action,
            detail=detail,
            at=datetime.now(UTC),
        )
    )
