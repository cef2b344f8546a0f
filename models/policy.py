"""Every time limit the engine applies, with its source. One place for each figure.

Statutory figures come from the Victims' Code; the edition in force is chosen by configuration
(`VCS_CODE_EDITION`), because the 2013 and 2020 Codes differ. Figures marked *local policy* are
the region's own practice where the Act says only "all reasonable steps" (DVCVA 2004 s 35(3)).
A running workflow keeps the policy it started with (it travels in the workflow input), so
changing configuration never changes a case already in flight. The bank holidays its working
days are counted over travel with it for the same reason (models/working_days.py).
"""

import os
from datetime import date

from pydantic import BaseModel

from models.working_days import BankHolidays, required


class Policy(BaseModel):
    code_edition: str
    # Victims' Code 2020 Right 11 (in force 1 April 2021): referral to Probation within 10 working
    # days of sentence. 2013 Code: 20 working days.
    referral_working_days: int
    # Victims' Code 2020 Right 11: the VLO contacts the victim within 20 working days of referral.
    # 2013 Code: 40 working days ("eight weeks") of sentence.
    contact_working_days: int
    # Local policy: how long an offer waits for an answer before a VLO chases it, and how long
    # after the chase it closes (domain.md "No answer: chase, then close the offer").
    chase_after_working_days: int = 20
    close_after_chase_working_days: int = 20
    # Local policy under DVCVA s 35(3)-(4): representations are invited "in good time" before
    # release, and must reach the releasing authority before it decides. Counted back from the
    # first day of the release MONTH, never from the release day, which a victim must not be
    # able to work out (models/release_month.py).
    representations_open_days_before_release: int = 120
    representations_due_days_before_release: int = 42
    # Local policy: a victim always gets at least this long to make representations, even
    # when a release is brought forward (unless release comes sooner).
    representations_minimum_working_days: int = 10
    # Local policy: an overdue VLO task escalates one level; the escalation is due this much later.
    escalation_due_working_days: int = 5
    escalation_max_level: int = 3
    # The bank holidays working days are counted over (models/bank_holidays.py): set when a
    # case is registered (current_policy, policy_for), never by workflow code. None only in
    # the edition templates below, which count no days.
    calendar: BankHolidays | None = None

    @property
    def bank_holidays(self) -> BankHolidays:
        return required(self.calendar)

    # ---- a tariff / parole eligibility date (workflows/case.py) ----
    # Local policy *(confirm)*: the Parole Board review of a life or other indeterminate
    # sentence (at tariff expiry) or of a parole-eligible determinate sentence (at the PED)
    # starts about six months before that date: HMPPS Generic Parole Process Policy Framework
    # (2020; its 26-week timetable, whose text was not checked here); "around six months prior
    # to your tariff end date" (reeds.co.uk, "The Parole Process: Are You Eligible?"). The VLO
    # prepares the victims in the scheme for it (domain.md 'Parole': "as the parole eligibility
    # date nears, victims ... are told of the review"): a task due this long before the date.
    parole_review_weeks_before_eligibility: int = 26
    # Local policy: that task is in the VLO's list this long before it falls due.
    parole_preparation_notice_days: int = 28


# Local policy: a new case's sentence date lies at most this many years back. Nobody in custody
# or on licence in England and Wales today was sentenced much more than 50 years ago, so an
# older date is a typing error (1926 for 2026) that would register a case closed at once.
NEW_REFERRAL_MAX_YEARS = 60


CODE_EDITIONS: dict[str, Policy] = {
    "2020": Policy(code_edition="2020", referral_working_days=10, contact_working_days=20),
    "2013": Policy(code_edition="2013", referral_working_days=20, contact_working_days=40),
}


def policy_for(edition: str, today: date | None = None) -> Policy:
    """An edition's policy with the bank holidays of the years around `today` (default: today
    in London). Not for workflow code: it reads the bank-holiday sources."""
    from models.bank_holidays import calendar_for_new_work  # keeps them out of workflow imports

    return CODE_EDITIONS[edition].model_copy(update={"calendar": calendar_for_new_work(today)})


def current_policy() -> Policy:
    """The policy for new cases, from `VCS_CODE_EDITION` (default: the 2020 Code, in force)."""
    edition = os.environ.get("VCS_CODE_EDITION", "2020")
    if edition not in CODE_EDITIONS:
        known = ", ".join(sorted(CODE_EDITIONS))
        raise ValueError(f"VCS_CODE_EDITION={edition!r} is not a known edition ({known})")
    return policy_for(edition)
