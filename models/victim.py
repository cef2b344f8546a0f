"""Victims and their enrolment in the scheme. The only tables that hold who a victim is."""

from datetime import date, datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.text import clean_text
from models.vocabulary import Channel, ContactLevel, Language, Stage


class VictimBase(SQLModel):
    full_name: str = Field(min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=400)
    postcode: str | None = Field(default=None, max_length=10)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    preferred_channel: Channel = Channel.LETTER
    language: Language = Language.ENGLISH
    # "The victim or their family" (000_5a1d5e000983110f.txt): a bereaved family's
    # representative is contacted in the victim's place; this says whom they speak for.
    represents: str | None = Field(default=None, max_length=120)

    @field_validator("full_name", "postcode", "email", "phone", "represents")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value, multiline=True)

    def contact_problems(self) -> list[str]:
        """A victim must be reachable on the channel they chose."""
        needs = {
            Channel.LETTER: ("a postal address", self.address),
            Channel.EMAIL: ("an email address", self.email),
            Channel.PHONE: ("a phone number", self.phone),
        }
        if self.preferred_channel in needs:
            field, value = needs[self.preferred_channel]
            if not (value and value.strip()):
                return [f"preferred channel {self.preferred_channel.value} needs {field}"]
        return []


class Victim(VictimBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    added_at: datetime
    erased_at: datetime | None = None


class Enrolment(SQLModel, table=True):
    """The victim's place in the scheme, kept by their case's workflow for listing and reports."""

    id: int | None = Field(default=None, primary_key=True)
    victim_id: int = Field(foreign_key="victim.id", unique=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)
    workflow_id: str = Field(max_length=120)
    stage: Stage = Stage.IDENTIFIED
    contact_level: ContactLevel | None = None
    offer_due: date | None = None
    offered_on: date | None = None
    opted_in_on: date | None = None
    opted_out_on: date | None = None
    updated_at: datetime
