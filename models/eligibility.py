"""Is a victim of this case owed the statutory Victim Contact Scheme? The engine decides and
explains: every rule that fails says which and why, naming its source.
"""

from collections.abc import Iterable

from pydantic import BaseModel

from models.vocabulary import DisposalKind, OffenceCategory, SentenceType

# DVCVA 2004 s 45(2) (and s 35(3) as amended for terrorism): the offences that count.
QUALIFYING_OFFENCES = frozenset(OffenceCategory) - {OffenceCategory.OTHER}

# DVCVA 2004 s 45(3): sentences that are "relevant" whatever their length.
ALWAYS_RELEVANT = frozenset({SentenceType.LIFE, SentenceType.IPP, SentenceType.DETENTION_HMP})
# s 45(3): relevant when the term is 12 months or more.
RELEVANT_IF_TWELVE_MONTHS = frozenset(
    {
        SentenceType.IMPRISONMENT,
        SentenceType.EXTENDED,
        SentenceType.DETENTION_S250,
        SentenceType.DTO,
    }
)
MINIMUM_TERM_MONTHS = 12  # DVCVA 2004 s 45(3); Victims' Code 2020 Right 11


class EligibilityDecision(BaseModel):
    eligible: bool
    basis: str  # "statutory", "discretionary" or "refused"
    reasons: list[str]

    def explain(self) -> str:
        return "; ".join(self.reasons)


def decide_eligibility(
    *,
    disposal: DisposalKind,
    sentence_type: SentenceType,
    term_months: int | None,
    offences: Iterable[OffenceCategory],
    discretionary_reason: str | None = None,
) -> EligibilityDecision:
    """Statutory eligibility under DVCVA 2004 s 35; otherwise a discretionary case if the VLO
    gives a reason (domain.md 'Beyond the statute'), otherwise refused with every failed rule.
    """
    offence_set = set(offences)
    failed: list[str] = []
    passed: list[str] = []

    if disposal is not DisposalKind.CUSTODIAL:
        # s 35(2): hospital directions go to s 39; hospital orders to s 36; transfers to s 42.
        # Those paths have their own workflow (not yet built), so discretion cannot help here.
        return EligibilityDecision(
            eligible=False,
            basis="refused",
            reasons=[
                f"disposal is {disposal.value}: the hospital paths (DVCVA ss 36, 39, 42) "
                "are not yet supported by this engine"
            ],
        )

    if not offence_set:
        failed.append("no offence recorded: DVCVA s 35(1) needs a conviction for an offence")
    elif offence_set & QUALIFYING_OFFENCES:
        kinds = ", ".join(sorted(c.value for c in offence_set & QUALIFYING_OFFENCES))
        passed.append(f"sexual or violent offence under DVCVA s 45(2) ({kinds})")
    else:
        failed.append(
            "no offence is sexual or violent under DVCVA s 45(2) (murder, CJA 2003 Sch 15, "
            "SOA 2003 Part 2 notification, CJCSA 2000 Part 2 offence against a child) "
            "or a terrorism offence"
        )

    if sentence_type in ALWAYS_RELEVANT:
        passed.append(f"{sentence_type.value} is a relevant sentence under DVCVA s 45(3)")
    elif sentence_type in RELEVANT_IF_TWELVE_MONTHS:
        if term_months is None:
            failed.append(f"{sentence_type.value} needs a term in months (DVCVA s 45(3))")
        elif term_months < MINIMUM_TERM_MONTHS:
            failed.append(
                f"term of {term_months} months is under the {MINIMUM_TERM_MONTHS} months "
                "DVCVA s 45(3) requires"
            )
        else:
            passed.append(
                f"{sentence_type.value} of {term_months} months is a relevant sentence "
                "under DVCVA s 45(3)"
            )
    else:
        failed.append(
            f"{sentence_type.value} is not a relevant (custodial) sentence under DVCVA s 45(3)"
        )

    if not failed:
        return EligibilityDecision(eligible=True, basis="statutory", reasons=passed)
    if discretionary_reason and discretionary_reason.strip():
        return EligibilityDecision(
            eligible=True,
            basis="discretionary",
            reasons=[f"discretionary: {discretionary_reason.strip()}", *failed],
        )
    return EligibilityDecision(eligible=False, basis="refused", reasons=failed)
