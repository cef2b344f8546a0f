"""What an audit entry may say beyond who, what and when: named IDs, kinds, dates and counts.

The audit trail is kept for ever (retention erases personal data, not the trail) and cannot be
edited without breaking its hash chain (models/audit_chain.py), so it must never hold what a
person wrote: a task's outcome, a note, a reason, a name (issue 13; UK GDPR Article 5(1)(e),
storage limitation). Free text lives in a row the retention job erases (a CaseNote, a task's
outcome, a disclosure's purpose) and the entry names that row by ID.

That is a type, not a convention: a fact is a number, a flag, a date, a list of IDs, a value of
one of the vocabularies (an enum) or a `Ref` (one token, no spaces: a hand-off or review ID);
a plain string does not type-check and text that is not one token does not validate. Who acted
is the entry's `actor`; whom a task or case went to is on its row. An entry stores its facts as
compact JSON, in the order given.
"""

import json
import re
from datetime import date
from enum import Enum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, StringConstraints
from pydantic_core import CoreSchema, core_schema

REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,99}")
FACT_NAME = r"^[a-z][a-z0-9_]{0,39}$"


class Ref(str):
    """An identifier in an audit entry: one token of letters, digits and . _ : @ / + -."""

    def __new__(cls, value: str) -> Self:
        if not REF.fullmatch(value):
            # The value is not repeated: it may be exactly the free text this refuses.
            raise ValueError(
                "an audit reference is one token of letters, digits and . _ : @ / + - "
                "(at most 100 characters): free text belongs in a note, named by its ID"
            )
        return super().__new__(cls, value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


# bool before int: True stays a flag, not 1. No plain str: text must be a Ref or an enum value.
Fact = bool | int | date | Ref | list[int]
FactName = Annotated[str, StringConstraints(pattern=FACT_NAME)]


class AuditDetail(BaseModel):
    """An audit entry's facts, by name. Build with `AuditDetail.of(task=3, due_on=...)`."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    facts: dict[FactName, Fact] = {}

    @classmethod
    def of(cls, **facts: Fact | Enum | None) -> Self:
        """Named facts; an enum is stored as its value, a None is left out."""
        return cls(
            facts={
                name: Ref(str(value.value)) if isinstance(value, Enum) else value
                for name, value in facts.items()
                if value is not None
            }
        )

    def plus(self, **facts: Fact | Enum | None) -> Self:
        return self.of(**{**self.facts, **facts})

    def text(self) -> str:
        """What the entry stores (and its hash covers): compact JSON, facts in the order given."""
        if not self.facts:
            return ""
        return json.dumps(
            self.model_dump(mode="json")["facts"], ensure_ascii=False, separators=(",", ":")
        )


def stored_facts(detail: str) -> dict[str, Any] | str:
    """A stored detail as the facts it encodes (an auditor's export); anything else, such as a
    row written outside the audit trail, as it is."""
    try:
        facts = json.loads(detail) if detail else {}
    except ValueError:
        return detail
    return facts if isinstance(facts, dict) else detail


def readable(detail: str) -> str:
    """A stored detail for people: `task=3 due_on=2027-01-04`."""
    facts = stored_facts(detail)
    if isinstance(facts, str):
        return facts
    return " ".join(f"{name}={value}" for name, value in facts.items())
