"""The offender case: disposal, offences and the sentence milestones the prison calculates."""

import itertools
import re
from datetime import date, datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.text import clean_text
from models.vocabulary import (
    CaseStatus,
    DisposalKind,
    Finding,
    OffenceCategory,
    Provider,
    SentenceType,
)

CASE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]*")


class MilestoneDates(SQLModel):
    """Sentence milestones. They come from the prison's sentence calculation, never from us,
    and they change (recalculation, recall, added days): every timer follows the current dates.
    """

    sentence_date: date
    parole_eligibility_date: date | None = None
    home_detention_curfew_date: date | None = None
    conditional_release_date: date | None = None
    release_date: date | None = None  # the actual release, once it has happened
    licence_expiry_date: date | None = None
    sentence_expiry_date: date | None = None
    # Offender Rehabilitation Act 2014 / CJA 2003 s 256AA: supervision after a sentence of
    # under 2 years runs on past sentence expiry to 12 months after release.
    post_sentence_supervision_end_date: date | None = None

    def problems(self) -> list[str]:
        """Every way these dates contradict each other; empty when they are consistent."""
        found: list[str] = []
        named = {
            "parole eligibility date": self.parole_eligibility_date,
            "home detention curfew date": self.home_detention_curfew_date,
            "conditional release date": self.conditional_release_date,
            "release date": self.release_date,
            "licence expiry date": self.licence_expiry_date,
            "sentence expiry date": self.sentence_expiry_date,
            "post-sentence supervision end date": self.post_sentence_supervision_end_date,
        }
        for name, day in named.items():
            if day is not None and day < self.sentence_date:
                found.append(f"{name} {day} is before the sentence date {self.sentence_date}")
        ordered = [
            ("parole eligibility date", self.parole_eligibility_date),
            ("home detention curfew date", self.home_detention_curfew_date),
            ("conditional release date", self.conditional_release_date),
            ("licence expiry date", self.licence_expiry_date),
            ("sentence expiry date", self.sentence_expiry_date),
            ("post-sentence supervision end date", self.post_sentence_supervision_end_date),
        ]
        present = [(name, day) for name, day in ordered if day is not None]
        for (earlier, first), (later, second) in itertools.pairwise(present):
            if first > second:
                found.append(f"{earlier} {first} is after the {later} {second}")
        if (
            self.release_date
            and self.licence_expiry_date
            and (self.release_date > self.licence_expiry_date)
        ):
            found.append(
                f"release date {self.release_date} is after the licence expiry date "
                f"{self.licence_expiry_date}"
            )
        return found

    def release_milestone(self) -> date | None:
        """The release the scheme prepares for: the actual one, else the automatic one."""
        return self.release_date or self.conditional_release_date

    def scheme_end(self) -> date | None:
        """The scheme ends when the licence and any post-sentence supervision end (domain.md,
        'On licence'); with no licence date, at sentence expiry; indeterminate: never by date.
        """
        ends = [
            d
            for d in (self.licence_expiry_date, self.post_sentence_supervision_end_date)
            if d is not None
        ]
        if ends:
            return max(ends)
        return self.sentence_expiry_date


class OffenderCaseBase(MilestoneDates):
    case_ref: str = Field(index=True, unique=True, min_length=3, max_length=40)
    provider: Provider = Provider.NPS
    region: str = Field(min_length=2, max_length=60)
    responsible_vlo: str = Field(min_length=2, max_length=60)
    mappa_category: int | None = Field(default=None, ge=1, le=3)  # CJA 2003 s 325; 001_272a...
    mappa_level: int | None = Field(default=None, ge=1, le=3)
    disposal: DisposalKind = DisposalKind.CUSTODIAL
    sentence_type: SentenceType
    term_months: int | None = Field(default=None, ge=0, le=1200)  # None: indeterminate
    # Hospital paths (models/hospital.py): DVCVA s 36(1)(b) findings, and whether a restriction
    # order (MHA s 41), limitation direction (s 45A) or restriction direction (s 49) applies.
    finding: Finding = Finding.CONVICTED
    restricted: bool = False
    restriction_ends_on: date | None = None  # when the limitation/restriction direction ceases
    hospital_id: int | None = Field(default=None, foreign_key="hospital.id")  # where detained

    @field_validator("case_ref")
    @classmethod
    def _case_ref(cls, value: str) -> str:
        """Case references become workflow IDs and search attributes."""
        if not CASE_REF.fullmatch(value):
            raise ValueError(
                "use letters, digits, '-', '/' or '_' only, starting with a letter or digit"
            )
        return value

    @field_validator("region", "responsible_vlo")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return clean_text(value)


class OffenderCase(OffenderCaseBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    eligibility_basis: str  # "statutory" or "discretionary"
    eligibility_reason: str
    status: CaseStatus = CaseStatus.OPEN
    registered_at: datetime
    closed_at: datetime | None = None


class OffenceBase(SQLModel):
    description: str = Field(min_length=1, max_length=200)
    category: OffenceCategory

    @field_validator("description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return clean_text(value)


class Offence(OffenceBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="offendercase.id", index=True)


class CaseRegistration(OffenderCaseBase):
    """What a VLO supplies to register a case (flags or a JSON document)."""

    offences: list[OffenceBase] = Field(min_length=1)
    discretionary_reason: str | None = Field(default=None, max_length=500)
