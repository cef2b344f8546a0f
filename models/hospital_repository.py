"""Hospitals in the case database (models/hospital.py: DVCVA ss 36-44A): recorded once,
listed, found by ID."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models.db import session_scope
from models.errors import VcsError
from models.hospital import Hospital, HospitalBase


def hospital_row(session: Session, hospital_id: int) -> Hospital:
    hospital = session.get(Hospital, hospital_id)
    if hospital is None:
        raise VcsError(f"no hospital {hospital_id} is recorded: add it with add-hospital")
    return hospital


def add_hospital(engine: Engine, hospital: HospitalBase, by: str) -> tuple[Hospital, bool]:
    """Record a hospital once: the same name and postcode again is the hospital already there."""
    with session_scope(engine) as session:
        existing = session.exec(
            select(Hospital).where(
                Hospital.name == hospital.name, Hospital.postcode == hospital.postcode
            )
        ).first()
        if existing is not None:
            return existing, False
        row = Hospital(**hospital.model_dump(), recorded_by=by, recorded_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row, True


def hospitals(engine: Engine) -> list[Hospital]:
    with session_scope(engine) as session:
        return list(session.exec(select(Hospital).order_by(col(Hospital.id))).all())


def hospital_by_id(engine: Engine, hospital_id: int) -> Hospital:
    with session_scope(engine) as session:
        return hospital_row(session, hospital_id)
