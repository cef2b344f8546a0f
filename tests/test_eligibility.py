"""Statutory eligibility for the Victim Contact Scheme: DVCVA 2004 s 35 (who is owed the scheme)
and s 45 (what a "sexual or violent offence" and a "relevant sentence" are), plus the VLO's
discretion to take cases outside the statute (domain.md, 'Beyond the statute').

The assertions read the reasons as a VLO would: every refusal must say which rule failed and
name its source.
"""

import pytest

from models.eligibility import EligibilityDecision, decide_eligibility
from models.vocabulary import DisposalKind, Finding, HospitalPath, OffenceCategory, SentenceType

QUALIFYING = [
    # s 45(2)(a): murder.
    OffenceCategory.MURDER,
    # s 45(2)(b): an offence specified in CJA 2003 Schedule 15, Part 1 (violent) ...
    OffenceCategory.SCHEDULE_15_VIOLENT,
    # ... and Part 2 (sexual).
    OffenceCategory.SCHEDULE_15_SEXUAL,
    # s 45(2)(c): an offence attracting SOA 2003 Part 2 notification requirements.
    OffenceCategory.SEX_OFFENDER_NOTIFICATION,
    # s 45(2)(d): an offence against a child within CJCSA 2000 Part 2.
    OffenceCategory.OFFENCE_AGAINST_CHILD,
    # s 35(3) as amended: terrorism offences.
    OffenceCategory.TERRORISM,
]


def decide(
    *,
    offences: list[OffenceCategory] | None = None,
    sentence_type: SentenceType = SentenceType.IMPRISONMENT,
    term_months: int | None = 24,
    disposal: DisposalKind = DisposalKind.CUSTODIAL,
    discretionary_reason: str | None = None,
) -> EligibilityDecision:
    return decide_eligibility(
        disposal=disposal,
        sentence_type=sentence_type,
        term_months=term_months,
        offences=[OffenceCategory.SCHEDULE_15_VIOLENT] if offences is None else offences,
        discretionary_reason=discretionary_reason,
    )


def assert_refused(decision: EligibilityDecision) -> None:
    assert decision.eligible is False
    assert decision.basis == "refused"
    assert decision.reasons, "a refusal must explain itself"


# --- the offence: DVCVA 2004 s 45(2) -------------------------------------------------------


@pytest.mark.parametrize("category", QUALIFYING, ids=lambda c: c.value)
def test_each_sexual_or_violent_offence_category_qualifies(category: OffenceCategory) -> None:
    """DVCVA 2004 s 45(2)(a)-(d) and s 35(3) (terrorism): each category alone qualifies when the
    sentence is relevant (here 24 months' imprisonment)."""
    decision = decide(offences=[category])
    assert decision.eligible is True
    assert decision.basis == "statutory"
    text = decision.explain()
    assert "s 45(2)" in text
    assert category.value in text  # the reason names the qualifying offence


def test_every_offence_category_except_other_is_in_the_qualifying_list() -> None:
    """DVCVA 2004 s 45(2): the vocabulary must not grow a category the rule silently ignores."""
    assert set(OffenceCategory) - set(QUALIFYING) == {OffenceCategory.OTHER}


def test_other_offence_alone_is_refused() -> None:
    """DVCVA 2004 s 45(2): an offence that is none of murder / Sch 15 / SOA notification / child
    offence (nor terrorism) does not bring the case into the scheme, whatever the sentence."""
    decision = decide(offences=[OffenceCategory.OTHER], term_months=120)
    assert_refused(decision)
    text = decision.explain()
    assert "sexual or violent" in text
    assert "s 45(2)" in text


def test_other_offence_alongside_a_qualifying_one_is_eligible() -> None:
    """DVCVA 2004 s 35(1)-(2): one qualifying conviction is enough; others do not spoil it."""
    decision = decide(offences=[OffenceCategory.OTHER, OffenceCategory.MURDER])
    assert decision.eligible is True
    assert decision.basis == "statutory"
    assert "murder" in decision.explain()


def test_no_offence_recorded_is_refused() -> None:
    """DVCVA 2004 s 35(1): the scheme follows a conviction for an offence; with no offence
    recorded, none is owed."""
    decision = decide(offences=[])
    assert_refused(decision)
    assert "no offence" in decision.explain()
    assert "s 35(1)" in decision.explain()


@pytest.mark.parametrize(
    ("disposal", "section"),
    [
        (DisposalKind.HOSPITAL_ORDER, "s 36(1)"),
        (DisposalKind.HOSPITAL_DIRECTION, "s 39(1)(a)"),
        (DisposalKind.TRANSFER_DIRECTION, "s 42(1)(a)"),
    ],
)
def test_no_offence_on_a_hospital_path_cites_that_path(
    disposal: DisposalKind, section: str
) -> None:
    """No offence on a hospital path: the refusal cites the path's own section (s 36 also
    admits a finding of insanity or disability), not s 35(1)."""
    order = disposal is DisposalKind.HOSPITAL_ORDER
    decision = decide_eligibility(
        disposal=disposal,
        sentence_type=SentenceType.HOSPITAL_ORDER if order else SentenceType.IMPRISONMENT,
        term_months=None if order else 48,
        offences=[],
        finding=Finding.NOT_GUILTY_INSANITY if order else Finding.CONVICTED,
        restricted=disposal is DisposalKind.HOSPITAL_DIRECTION,
    )
    assert_refused(decision)
    assert section in decision.explain()
    assert "s 35(1)" not in decision.explain()


# --- the sentence: DVCVA 2004 s 45(3) ------------------------------------------------------


@pytest.mark.parametrize(
    "sentence_type",
    [
        SentenceType.IMPRISONMENT,
        SentenceType.EXTENDED,
        SentenceType.DETENTION_S250,
        SentenceType.DTO,
    ],
    ids=lambda s: s.value,
)
def test_eleven_months_is_refused_naming_twelve_months_and_s45(
    sentence_type: SentenceType,
) -> None:
    """DVCVA 2004 s 45(3): imprisonment, s 91/s 250 detention and a DTO are relevant only for
    12 months or more. 11 months is refused and the reason says why."""
    decision = decide(sentence_type=sentence_type, term_months=11)
    assert_refused(decision)
    text = decision.explain()
    assert "11 months" in text
    assert "12 months" in text
    assert "s 45" in text


@pytest.mark.parametrize(
    "sentence_type",
    [
        SentenceType.IMPRISONMENT,
        SentenceType.EXTENDED,
        SentenceType.DETENTION_S250,
        SentenceType.DTO,
    ],
    ids=lambda s: s.value,
)
def test_exactly_twelve_months_is_eligible(sentence_type: SentenceType) -> None:
    """DVCVA 2004 s 45(3): "12 months or more" includes exactly 12 months (boundary)."""
    decision = decide(sentence_type=sentence_type, term_months=12)
    assert decision.eligible is True
    assert decision.basis == "statutory"
    assert "s 45(3)" in decision.explain()


@pytest.mark.parametrize("term_months", [4, 6, 8, 10])
def test_detention_and_training_order_under_twelve_months_is_refused(term_months: int) -> None:
    """DVCVA 2004 s 45(3): a detention and training order counts only at 12 months or more
    (DTOs are made for 4, 6, 8, 10, 12, 18 or 24 months)."""
    decision = decide(sentence_type=SentenceType.DTO, term_months=term_months)
    assert_refused(decision)
    assert "12 months" in decision.explain()
    assert "s 45" in decision.explain()


@pytest.mark.parametrize("term_months", [1, 6, 11])
def test_section_250_detention_under_twelve_months_is_refused(term_months: int) -> None:
    """DVCVA 2004 s 45(3): detention under PCC(S)A 2000 s 91 (now Sentencing Code s 250) counts
    only at 12 months or more."""
    decision = decide(sentence_type=SentenceType.DETENTION_S250, term_months=term_months)
    assert_refused(decision)
    assert "12 months" in decision.explain()
    assert "s 45" in decision.explain()


@pytest.mark.parametrize(
    "sentence_type",
    [SentenceType.LIFE, SentenceType.IPP, SentenceType.DETENTION_HMP],
    ids=lambda s: s.value,
)
def test_indeterminate_sentences_are_eligible_without_a_term(sentence_type: SentenceType) -> None:
    """DVCVA 2004 s 45(3): life, IPP and detention during His Majesty's pleasure are relevant
    sentences whatever their length; no term in months is needed."""
    decision = decide(sentence_type=sentence_type, term_months=None)
    assert decision.eligible is True
    assert decision.basis == "statutory"
    assert "s 45(3)" in decision.explain()


def test_determinate_sentence_without_a_term_is_refused() -> None:
    """DVCVA 2004 s 45(3): a determinate sentence is relevant only by its length, so a missing
    term cannot be assumed to be 12 months or more."""
    decision = decide(sentence_type=SentenceType.IMPRISONMENT, term_months=None)
    assert_refused(decision)
    assert "term" in decision.explain()
    assert "s 45(3)" in decision.explain()


@pytest.mark.parametrize(
    "sentence_type", [SentenceType.SUSPENDED, SentenceType.COMMUNITY], ids=lambda s: s.value
)
def test_suspended_and_community_sentences_are_refused(sentence_type: SentenceType) -> None:
    """DVCVA 2004 s 45(3): only custodial sentences are relevant; a suspended sentence or a
    community order is not, however long (here 24 months)."""
    decision = decide(sentence_type=sentence_type, term_months=24)
    assert_refused(decision)
    text = decision.explain()
    assert sentence_type.value in text
    assert "not a relevant" in text
    assert "s 45(3)" in text


# --- the disposal: DVCVA 2004 s 35(2), ss 36, 39, 42 ----------------------------------------


def decide_hospital(
    disposal: DisposalKind,
    *,
    restricted: bool = True,
    finding: Finding = Finding.CONVICTED,
    offences: list[OffenceCategory] | None = None,
    sentence_type: SentenceType | None = None,
    term_months: int | None = 36,
    discretionary_reason: str | None = None,
) -> EligibilityDecision:
    """A hospital disposal; a hospital order has no sentence, the others a 36-month term."""
    if sentence_type is None:
        sentence_type = (
            SentenceType.HOSPITAL_ORDER
            if disposal is DisposalKind.HOSPITAL_ORDER
            else SentenceType.IMPRISONMENT
        )
    return decide_eligibility(
        disposal=disposal,
        sentence_type=sentence_type,
        term_months=None if disposal is DisposalKind.HOSPITAL_ORDER else term_months,
        offences=[OffenceCategory.SCHEDULE_15_VIOLENT] if offences is None else offences,
        discretionary_reason=discretionary_reason,
        finding=finding,
        restricted=restricted,
    )


@pytest.mark.parametrize(
    ("disposal", "restricted", "path", "sections"),
    [
        (DisposalKind.HOSPITAL_ORDER, True, HospitalPath.S36_RESTRICTED, "ss 36, 36A, 37, 38"),
        (
            DisposalKind.HOSPITAL_ORDER,
            False,
            HospitalPath.S36_UNRESTRICTED,
            "ss 36, 36A, 37A, 38A",
        ),
        (DisposalKind.HOSPITAL_DIRECTION, True, HospitalPath.S39_LIMITATION, "ss 39, 40, 41"),
        (DisposalKind.TRANSFER_DIRECTION, True, HospitalPath.S42_RESTRICTED, "ss 42, 42A, 43, 44"),
        (
            DisposalKind.TRANSFER_DIRECTION,
            False,
            HospitalPath.S42_UNRESTRICTED,
            "ss 42, 42A, 43A, 44A",
        ),
    ],
    ids=lambda v: v.value if isinstance(v, HospitalPath) else None,
)
def test_each_hospital_path_is_eligible_and_names_its_sections(
    disposal: DisposalKind, restricted: bool, path: HospitalPath, sections: str
) -> None:
    """DVCVA 2004 s 36 (hospital order, restricted: ss 37-38; not: ss 37A-38A), s 39 (hospital
    direction with limitation direction: ss 40-41), s 42 (transfer direction, restricted: ss 43-
    44; not: ss 43A-44A). Each is statutory, and the decision names the path and its sections."""
    decision = decide_hospital(disposal, restricted=restricted)
    assert decision.eligible is True
    assert decision.basis == "statutory"
    assert decision.path is path
    text = decision.explain()
    assert sections in text
    assert "s 45(2)" in text  # the offence is still what brings the case in


@pytest.mark.parametrize("finding", list(Finding), ids=lambda f: f.value)
def test_hospital_order_follows_conviction_insanity_or_disability(finding: Finding) -> None:
    """DVCVA 2004 s 36(1)(b): convicted, not guilty by reason of insanity, or found under a
    disability to have done the act. No sentence is needed: a hospital order is made instead."""
    decision = decide_hospital(DisposalKind.HOSPITAL_ORDER, finding=finding)
    assert decision.eligible is True
    assert "s 36(1)(b)" in decision.explain()


@pytest.mark.parametrize(
    "disposal", [DisposalKind.HOSPITAL_DIRECTION, DisposalKind.TRANSFER_DIRECTION]
)
@pytest.mark.parametrize(
    "finding", [Finding.NOT_GUILTY_INSANITY, Finding.UNDER_DISABILITY], ids=lambda f: f.value
)
def test_directions_need_a_conviction(disposal: DisposalKind, finding: Finding) -> None:
    """DVCVA 2004 s 39(1)(a), s 42(1)(a): "convicted". Insanity and disability findings lead only
    to a hospital order (s 36)."""
    decision = decide_hospital(disposal, finding=finding)
    assert_refused(decision)
    text = decision.explain()
    assert "not convicted" in text
    assert "s 39(1)(a)" in text or "s 42(1)(a)" in text


def test_custodial_path_needs_a_conviction_too() -> None:
    """DVCVA 2004 s 35(1): a custodial case follows a conviction."""
    decision = decide(offences=[OffenceCategory.MURDER], sentence_type=SentenceType.LIFE)
    assert decision.eligible
    refused = decide_eligibility(
        disposal=DisposalKind.CUSTODIAL,
        sentence_type=SentenceType.LIFE,
        term_months=None,
        offences=[OffenceCategory.MURDER],
        finding=Finding.UNDER_DISABILITY,
    )
    assert_refused(refused)
    assert "s 35(1)" in refused.explain()


@pytest.mark.parametrize("disposal", [d for d in DisposalKind if d is not DisposalKind.CUSTODIAL])
def test_hospital_path_for_an_offence_that_is_not_sexual_or_violent_is_refused(
    disposal: DisposalKind,
) -> None:
    """DVCVA 2004 ss 36(1)(a), 39(1)(a), 42(1)(a): the offence must be one of s 45(2). Discretion
    cannot help: the hospital duties (a victim's address to the hospital managers under s 36A /
    s 42A) rest on the statute."""
    for reason in (None, "Domestic abuse: VLO judges contact appropriate"):
        decision = decide_hospital(
            disposal, offences=[OffenceCategory.OTHER], discretionary_reason=reason
        )
        assert_refused(decision)
        text = decision.explain()
        assert "sexual or violent" in text and "s 45(2)" in text
        if reason:
            assert "discretion cannot take a hospital case" in text


@pytest.mark.parametrize(
    "disposal", [DisposalKind.HOSPITAL_DIRECTION, DisposalKind.TRANSFER_DIRECTION]
)
def test_directions_need_a_relevant_sentence(disposal: DisposalKind) -> None:
    """DVCVA 2004 s 39(1)(b), s 42(1)(b): a relevant sentence (s 45(3): 12 months or more), the
    same rule as the custodial path."""
    decision = decide_hospital(disposal, term_months=11)
    assert_refused(decision)
    assert "12 months" in decision.explain()
    assert decide_hospital(disposal, term_months=12).eligible


def test_hospital_direction_without_a_limitation_direction_is_refused() -> None:
    """MHA 1983 s 45A: a hospital direction is always given with a limitation direction; DVCVA
    s 39(1)(c) names both."""
    decision = decide_hospital(DisposalKind.HOSPITAL_DIRECTION, restricted=False)
    assert_refused(decision)
    assert "limitation direction" in decision.explain()
    assert "s 45A" in decision.explain()


def test_hospital_order_with_a_custodial_sentence_type_is_refused() -> None:
    """DVCVA 2004 s 36(1)(c); MHA 1983 s 37: a hospital order is made instead of a sentence."""
    decision = decide_hospital(DisposalKind.HOSPITAL_ORDER, sentence_type=SentenceType.IMPRISONMENT)
    assert_refused(decision)
    assert "instead of a sentence" in decision.explain()


def test_hospital_order_is_not_a_relevant_custodial_sentence() -> None:
    """DVCVA 2004 s 45(3): the 'hospital_order' sentence type brings no custodial case in."""
    decision = decide(sentence_type=SentenceType.HOSPITAL_ORDER, term_months=None)
    assert_refused(decision)
    assert "not a relevant" in decision.explain()


# --- discretion: domain.md 'Beyond the statute' ---------------------------------------------


def test_discretionary_reason_turns_a_refusal_into_a_discretionary_case() -> None:
    """Outside DVCVA s 45(3) (a 6-month sentence), a VLO may take a domestic-abuse case on
    discretion: it is recorded as discretionary, with the reason and the statutory rules it
    fails, so nobody mistakes it for a statutory case."""
    reason = "Domestic abuse victim; VLO offers the scheme case by case"
    decision = decide(term_months=6, discretionary_reason=reason)
    assert decision.eligible is True
    assert decision.basis == "discretionary"
    assert decision.reasons[0] == f"discretionary: {reason}"
    failed = decision.explain()
    assert "6 months" in failed
    assert "12 months" in failed
    assert "s 45" in failed


def test_discretionary_case_keeps_every_failed_statutory_reason() -> None:
    """DVCVA 2004 s 45(2) and s 45(3) both fail; a discretionary case records both."""
    decision = decide(
        offences=[OffenceCategory.OTHER],
        term_months=6,
        discretionary_reason="Victim Notification Scheme: stalking, sentence under 12 months",
    )
    assert decision.eligible is True
    assert decision.basis == "discretionary"
    assert len(decision.reasons) == 3
    assert any("s 45(2)" in r for r in decision.reasons[1:])
    assert any("s 45(3)" in r and "6 months" in r for r in decision.reasons[1:])


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_discretionary_reason_does_not_make_a_case_eligible(blank: str) -> None:
    """domain.md 'Beyond the statute': a discretionary case is recorded *with the reason*;
    an empty reason is no reason, so the DVCVA s 45(3) refusal stands."""
    decision = decide(term_months=6, discretionary_reason=blank)
    assert_refused(decision)


def test_discretionary_reason_on_a_statutory_case_keeps_it_statutory() -> None:
    """DVCVA 2004 s 35: a case the statute covers is statutory; a reason given needlessly does
    not downgrade it to discretionary."""
    decision = decide(term_months=24, discretionary_reason="in case")
    assert decision.eligible is True
    assert decision.basis == "statutory"


# --- explaining a refusal -------------------------------------------------------------------


def test_refusal_lists_every_failed_rule_not_just_the_first() -> None:
    """DVCVA 2004 s 45(2) (the offence) and s 45(3) (the sentence) both fail: the VLO is told
    both, so fixing one does not reveal the other only on the next attempt."""
    decision = decide(offences=[OffenceCategory.OTHER], term_months=11)
    assert_refused(decision)
    assert len(decision.reasons) == 2
    offence_reason, sentence_reason = decision.reasons
    assert "s 45(2)" in offence_reason
    assert "sexual or violent" in offence_reason
    assert "s 45" in sentence_reason
    assert "11 months" in sentence_reason
    assert "12 months" in sentence_reason


def test_refusal_for_no_offence_and_non_custodial_sentence_lists_both() -> None:
    """DVCVA 2004 s 35(1) (no conviction recorded) and s 45(3) (community order) both fail."""
    decision = decide(offences=[], sentence_type=SentenceType.COMMUNITY, term_months=12)
    assert_refused(decision)
    assert len(decision.reasons) == 2
    text = decision.explain()
    assert "no offence" in text
    assert "community" in text
    assert text == "; ".join(decision.reasons)


def test_eligible_decision_explains_both_rules_it_meets() -> None:
    """DVCVA 2004 s 35: eligibility rests on s 45(2) (offence) and s 45(3) (sentence); the
    recorded reason names both."""
    decision = decide(offences=[OffenceCategory.SCHEDULE_15_SEXUAL], term_months=30)
    assert decision.eligible is True
    text = decision.explain()
    assert "s 45(2)" in text
    assert "s 45(3)" in text
    assert "30 months" in text
