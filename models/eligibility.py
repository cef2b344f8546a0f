"""Is a victim of this case owed the statutory Victim Contact Scheme? The engine decides and
explains: every rule that fails says which and why, naming its source.
"""

from collections.abc import Iterable

from pydantic import BaseModel

from models.vocabulary import DisposalKind, Finding, HospitalPath, OffenceCategory, SentenceType

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
    path: HospitalPath | None = None  # the hospital path, for a hospital disposal

    def explain(self) -> str:
        return "; ".join(self.reasons)


# The hospital paths and the sections each brings (DVCVA 2004 Part 3 Chapter 2).
PATH_SECTIONS = {
    HospitalPath.S36_RESTRICTED: "DVCVA ss 36, 36A, 37, 38",
    HospitalPath.S36_UNRESTRICTED: "DVCVA ss 36, 36A, 37A, 38A",
    HospitalPath.S39_LIMITATION: "DVCVA ss 39, 40, 41",
    HospitalPath.S42_RESTRICTED: "DVCVA ss 42, 42A, 43, 44",
    HospitalPath.S42_UNRESTRICTED: "DVCVA ss 42, 42A, 43A, 44A",
}

FINDING_WORDS = {
    Finding.CONVICTED: "convicted",
    Finding.NOT_GUILTY_INSANITY: "found not guilty by reason of insanity",
    Finding.UNDER_DISABILITY: "found under a disability to have done the act",
}


def hospital_path(disposal: DisposalKind, restricted: bool) -> HospitalPath | None:
    """The path a disposal puts a case on; None for the custodial path (s 35)."""
    if disposal is DisposalKind.HOSPITAL_ORDER:
        return HospitalPath.S36_RESTRICTED if restricted else HospitalPath.S36_UNRESTRICTED
    if disposal is DisposalKind.HOSPITAL_DIRECTION:
        return HospitalPath.S39_LIMITATION
    if disposal is DisposalKind.TRANSFER_DIRECTION:
        return HospitalPath.S42_RESTRICTED if restricted else HospitalPath.S42_UNRESTRICTED
    return None


# What each path needs the offence for, named when no offence is recorded: s 35(1)(a) and
# s 39(1)(a) a conviction, s 42(1)(a) a conviction with a sentence served (then a transfer),
# s 36(1)(a)-(b) a charge with a conviction or a finding of insanity or disability.
NO_OFFENCE = {
    DisposalKind.CUSTODIAL: "DVCVA s 35(1) needs a conviction for an offence",
    DisposalKind.HOSPITAL_ORDER: (
        "DVCVA s 36(1) needs a charge for an offence and a conviction, a finding of not guilty "
        "by reason of insanity, or a finding under a disability that the person did the act"
    ),
    DisposalKind.HOSPITAL_DIRECTION: "DVCVA s 39(1)(a) needs a conviction for an offence",
    DisposalKind.TRANSFER_DIRECTION: (
        "DVCVA s 42(1)(a) needs a conviction for an offence (and a sentence for it)"
    ),
}


def _offence_rule(
    offences: set[OffenceCategory],
    passed: list[str],
    failed: list[str],
    disposal: DisposalKind = DisposalKind.CUSTODIAL,
) -> None:
    """DVCVA 2004 s 45(2) (and s 35(3) as amended): a sexual or violent (or terrorism) offence."""
    if not offences:
        failed.append(f"no offence recorded: {NO_OFFENCE[disposal]}")
    elif offences & QUALIFYING_OFFENCES:
        kinds = ", ".join(sorted(c.value for c in offences & QUALIFYING_OFFENCES))
        passed.append(f"sexual or violent offence under DVCVA s 45(2) ({kinds})")
    else:
        failed.append(
            "no offence is sexual or violent under DVCVA s 45(2) (murder, CJA 2003 Sch 15, "
            "SOA 2003 Part 2 notification, CJCSA 2000 Part 2 offence against a child) "
            "or a terrorism offence"
        )


def _sentence_rule(
    sentence_type: SentenceType, term_months: int | None, passed: list[str], failed: list[str]
) -> None:
    """DVCVA 2004 s 45(3): a relevant sentence (s 35, and ss 39(1)(b), 42(1)(b) alike)."""
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


def _conviction_rule(finding: Finding, section: str, failed: list[str]) -> None:
    """Every path but the hospital order's needs a conviction (DVCVA s 35(1), 39(1), 42(1));
    only s 36(1)(b) also admits insanity or disability findings."""
    if finding is not Finding.CONVICTED:
        failed.append(
            f"the offender was {FINDING_WORDS[finding]}, not convicted: {section} needs a "
            "conviction (only a hospital order, DVCVA s 36(1)(b), follows such a finding)"
        )


def _hospital_rules(
    disposal: DisposalKind,
    restricted: bool,
    sentence_type: SentenceType,
    term_months: int | None,
    finding: Finding,
    passed: list[str],
    failed: list[str],
) -> None:
    path = hospital_path(disposal, restricted)
    assert path is not None
    if disposal is DisposalKind.HOSPITAL_ORDER:
        # s 36(1): charged with the offence; convicted, not guilty by reason of insanity, or
        # under a disability and found to have done the act; and a hospital order made.
        passed.append(f"{FINDING_WORDS[finding]} (DVCVA s 36(1)(b))")
        if sentence_type is not SentenceType.HOSPITAL_ORDER:
            failed.append(
                f"a hospital order (MHA 1983 s 37) is made instead of a sentence: the sentence "
                f"type must be {SentenceType.HOSPITAL_ORDER.value}, not {sentence_type.value} "
                "(DVCVA s 36(1)(c))"
            )
        restriction = "with" if restricted else "without"
        passed.append(
            f"hospital order {restriction} a restriction order (MHA 1983 ss 37, 41): "
            f"{PATH_SECTIONS[path]}"
        )
        return
    if disposal is DisposalKind.HOSPITAL_DIRECTION:
        _conviction_rule(finding, "DVCVA s 39(1)(a)", failed)
        _sentence_rule(sentence_type, term_months, passed, failed)  # s 39(1)(b)
        if restricted:
            passed.append(
                f"hospital direction with a limitation direction (MHA 1983 s 45A): "
                f"{PATH_SECTIONS[path]}"
            )
        else:
            failed.append(
                "a hospital direction is always given with a limitation direction (MHA 1983 "
                "s 45A(1)(b)); DVCVA s 39(1)(c) needs both: record it as restricted"
            )
        return
    # s 42(1): convicted, serving a relevant sentence, and transferred by a transfer direction
    # (MHA s 47), with a restriction direction (MHA s 49: ss 43, 44) or without (ss 43A, 44A).
    _conviction_rule(finding, "DVCVA s 42(1)(a)", failed)
    _sentence_rule(sentence_type, term_months, passed, failed)
    restriction = "with" if restricted else "without"
    passed.append(
        f"transfer direction (MHA 1983 s 47) {restriction} a restriction direction (s 49): "
        f"{PATH_SECTIONS[path]}"
    )


def decide_eligibility(
    *,
    disposal: DisposalKind,
    sentence_type: SentenceType,
    term_months: int | None,
    offences: Iterable[OffenceCategory],
    discretionary_reason: str | None = None,
    finding: Finding = Finding.CONVICTED,
    restricted: bool = False,
) -> EligibilityDecision:
    """Statutory eligibility under DVCVA 2004 s 35 (custodial) or the hospital paths (ss 36,
    39, 42); a custodial case outside the statute may be taken as discretionary if the VLO
    gives a reason (domain.md 'Beyond the statute'); otherwise refused with every failed rule.
    """
    offence_set = set(offences)
    failed: list[str] = []
    passed: list[str] = []
    path = hospital_path(disposal, restricted)

    if path is None:
        _conviction_rule(finding, "DVCVA s 35(1)", failed)
        _offence_rule(offence_set, passed, failed)
        _sentence_rule(sentence_type, term_months, passed, failed)
    else:
        _offence_rule(offence_set, passed, failed, disposal)  # ss 36(1)(a), 39(1)(a), 42(1)(a)
        _hospital_rules(disposal, restricted, sentence_type, term_months, finding, passed, failed)

    if not failed:
        return EligibilityDecision(eligible=True, basis="statutory", reasons=passed, path=path)
    if path is not None:
        if discretionary_reason and discretionary_reason.strip():
            # The hospital duties (a victim's address to the hospital managers, s 36A / s 42A;
            # representations to the Secretary of State or the tribunal) rest on the statute.
            failed.append(
                "discretion cannot take a hospital case outside the statute: the hospital "
                "paths' duties rest on DVCVA ss 36-44A (domain.md 'Victim data')"
            )
        return EligibilityDecision(eligible=False, basis="refused", reasons=failed, path=path)
    if discretionary_reason and discretionary_reason.strip():
        return EligibilityDecision(
            eligible=True,
            basis="discretionary",
            reasons=[f"discretionary: {discretionary_reason.strip()}", *failed],
        )
    return EligibilityDecision(eligible=False, basis="refused", reasons=failed)
