"""Refusals of the access rules (service/access.py), kept for the data-protection officer: who
tried what, on which case, when. IDs, kinds and dates only (no free text, no personal data)."""

from datetime import datetime

from sqlmodel import Field, SQLModel


class AccessRefusal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=60, index=True)  # the identity provider's subject
    action: str = Field(max_length=40)
    scope: str = Field(max_length=10)  # own / other region
    case_id: int | None = Field(default=None, foreign_key="offendercase.id", index=True)
