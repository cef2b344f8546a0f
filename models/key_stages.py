"""Key stages of a custodial sentence (domain.md 'In custody'): when each may be recorded on a
case, which victims are told, and which need a VLO at once.

"Recorded once" means something different for each stage, so each stage says where the
offender must be for it to happen and how often it can. Where no statute or Code says so, the
rule is a local rule and is marked as one. The case workflow applies these rules in its
validator (workflows/case.py); each victim's path asks `told` who hears of a stage.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from models.vocabulary import ContactLevel, DisposalKind, KeyStage
from models.workflow_state import CaseState


class Custody(StrEnum):
    """Where the offender is, as far as the scheme knows."""

    IN_CUSTODY = "in_custody"  # before release, after a recall, after a return to custody
    ON_LICENCE = "on_licence"  # released (DVCVA s 35(7)) and not recalled since
    AT_LARGE = "unlawfully_at_large"  # escaped or absconded, not yet back


# EU Victims Directive 2012/29/EU art 6(5): victims are told of an escape whatever contact
# level they chose; absconding is escape from open conditions or temporary release, so the
# same. Local rule: whoever was told the offender was at large is told they are back.
ALWAYS_TOLD = frozenset({KeyStage.ESCAPE, KeyStage.ABSCONDING, KeyStage.RETURNED_TO_CUSTODY})

# The offender is at large: a letter in the outbox is not enough, the VLO must reach every
# victim at once (EU Victims Directive art 6(5): "without unnecessary delay"). Local rule:
# a task due the day it is recorded, escalated the next day if not done (workflows/tasks.py).
URGENT = frozenset({KeyStage.ESCAPE, KeyStage.ABSCONDING})

# The offender's death ends the sentence, and with it the scheme (domain.md 'On licence': the
# scheme ends when the sentence's licence and supervision end). Every opted-in victim is told,
# whatever their level, as every opted-in victim is told when the scheme ends.
ENDS_THE_CASE = KeyStage.DEATH


def told(stage: KeyStage, level: ContactLevel | None) -> bool:
    """Does an opted-in victim at this contact level hear of this key stage? (domain.md 'Opt in
    or out': the level 'all key stages' hears of every one; the others only of those above.
    A death reaches every opted-in victim as the end of the case, not through this.)"""
    return level is ContactLevel.ALL_KEY_STAGES or stage in ALWAYS_TOLD


@dataclass(frozen=True)
class Rule:
    """Where the offender must be for the stage to happen, and how often it can."""

    allowed: frozenset[Custody]
    why: str  # said when the offender is elsewhere
    once: str = ""  # set: once in the case, for this reason
    once_per_custody: str = ""  # set: once per spell in custody, for this reason


IN_CUSTODY = frozenset({Custody.IN_CUSTODY})
ANYWHERE = frozenset(Custody)

RULES: dict[KeyStage, Rule] = {
    # Prison Rules 1999 r 9: temporary release is of a prisoner. Granted again and again, so
    # local rule: at most one a day.
    KeyStage.TEMPORARY_RELEASE: Rule(IN_CUSTODY, "temporary release is of a prisoner"),
    # Local rule: a recall or a return to custody puts the offender back in closed conditions,
    # so a move to open conditions happens once per spell in custody.
    KeyStage.OPEN_CONDITIONS: Rule(
        IN_CUSTODY,
        "a move to open conditions is of a prisoner",
        once_per_custody="a recall or a return to custody comes first",
    ),
    # The Parole Board reviews the release of prisoners, recalled ones included; reviews recur
    # (domain.md 'Parole': the next review), so local rule: at most one a day.
    KeyStage.PAROLE_REVIEW: Rule(IN_CUSTODY, "the Parole Board reviews a prisoner's release"),
    # CJA 2003 s 254: the Secretary of State may recall a person released on licence. It can
    # recur after the next release; never while already recalled.
    KeyStage.RECALL: Rule(
        frozenset({Custody.ON_LICENCE}),
        "a recall is of an offender released on licence (CJA 2003 s 254)",
    ),
    # Local rule: an escape or absconding is from custody (an offender on licence who goes
    # missing is recalled); it can recur only after the offender is back in custody.
    KeyStage.ESCAPE: Rule(
        IN_CUSTODY, "an escape is from custody: record returned_to_custody or a recall first"
    ),
    KeyStage.ABSCONDING: Rule(
        IN_CUSTODY, "absconding is from custody: record returned_to_custody or a recall first"
    ),
    KeyStage.RETURNED_TO_CUSTODY: Rule(
        frozenset({Custody.AT_LARGE}), "a return to custody ends an escape or absconding"
    ),
    # A person dies once; the case then closes, so nothing more is recorded on it.
    KeyStage.DEATH: Rule(ANYWHERE, "", once="the case closed with it"),
    # MHA 1983 s 47: a transfer direction moves a person serving a sentence to hospital. Once
    # per stay in hospital: the case's hospital path refuses a second transfer while the first
    # stands, and after a remission to prison (MHA 1983 s 50) it can recur (workflows/hospital.py).
    KeyStage.TRANSFER_TO_HOSPITAL: Rule(
        IN_CUSTODY, "a transfer direction (MHA 1983 s 47) is of a prisoner"
    ),
    # Local rule: removal from the UK happens once in a case (a return is a new matter). From
    # custody or from licence; the case stays open, since the licence and any supervision run
    # on to their end dates (domain.md is silent on deportation).
    KeyStage.DEPORTATION: Rule(
        frozenset({Custody.IN_CUSTODY, Custody.ON_LICENCE}),
        "an offender at large cannot be deported: record returned_to_custody first",
        once="an offender is removed from the UK once in a case",
    ),
}


# A patient on a hospital path (models/hospital.py, DVCVA ss 36-44A) is detained in hospital, not
# in prison: the prison-only stages are refused with the route that records the real event.
# Escape and absconding stay (MHA 1983 s 18: absent without leave; s 138: escape from legal
# custody), as do the return, death and deportation (MHA 1983 s 86: removal of patients).
NOT_FOR_PATIENTS: dict[KeyStage, str] = {
    # Prison Rules 1999 r 9 is for prisoners; a patient's leave of absence is MHA 1983 s 17
    # leave (for a restricted patient with the Secretary of State's consent, MHA s 41(3)(c)),
    # which the responsible clinician grants and the hospital managers tell the victim of.
    KeyStage.TEMPORARY_RELEASE: (
        "temporary release (Prison Rules 1999 r 9) is of a prisoner; a patient's leave of "
        "absence is MHA 1983 s 17 leave, which is not a key stage of the scheme"
    ),
    KeyStage.OPEN_CONDITIONS: (
        "open conditions are a prison category; record a move between hospitals as the "
        "hospital the patient is in"
    ),
    # A hospital order is not a sentence: the Parole Board never reviews it; discharge is for
    # the Secretary of State or the tribunal (DVCVA s 37(4)-(5)). Hospital and transfer
    # directions go with a sentence, so their Parole Board reviews stay.
    KeyStage.PAROLE_REVIEW: (
        "a hospital order is not a sentence, so the Parole Board does not review it; record "
        "a Mental Health Tribunal application instead"
    ),
    # CJA 2003 s 254 recalls an offender on licence; a conditionally discharged patient is
    # recalled to hospital by the Secretary of State (MHA 1983 s 42(3)): a readmission.
    KeyStage.RECALL: (
        "a recall (CJA 2003 s 254) is of an offender on licence; record a patient's recall to "
        "hospital (MHA 1983 s 42(3)) as a readmission to hospital"
    ),
    KeyStage.TRANSFER_TO_HOSPITAL: (
        "the patient is already in hospital; record a move between hospitals as the hospital "
        "the patient is in"
    ),
}
ONLY_ON_HOSPITAL_ORDER = frozenset({KeyStage.PAROLE_REVIEW})
# Local rule: an escape or absconding is from hospital, so not after a discharge (a discharged
# patient who breaks conditions is recalled: a readmission to hospital).
FROM_HOSPITAL = frozenset({KeyStage.ESCAPE, KeyStage.ABSCONDING})


def patient_problem(state: CaseState, stage: KeyStage) -> str | None:
    """Why a key stage cannot be recorded for a patient on a hospital path, or None."""
    status = state.hospital
    if status is None:
        return None
    name, path = stage.value, status.path.value
    reason = NOT_FOR_PATIENTS.get(stage)
    if stage in ONLY_ON_HOSPITAL_ORDER and status.disposal is not DisposalKind.HOSPITAL_ORDER:
        reason = None
    if reason is not None:
        return f"{name} cannot be recorded for a patient on the hospital path ({path}): {reason}"
    if stage in FROM_HOSPITAL and status.discharge is not None and state.at_large_since is None:
        return (
            f"{name} cannot be recorded: the patient was discharged ({status.discharge.value}) "
            f"on {status.discharged_on}, so is not detained; record a recall to hospital as a "
            "readmission to hospital"
        )
    return None


def custody_of(state: CaseState) -> Custody:
    if state.at_large_since is not None:
        return Custody.AT_LARGE
    if state.milestones.release_date is not None and state.recalled_on is None:
        return Custody.ON_LICENCE
    return Custody.IN_CUSTODY


def case_stage(state: CaseState) -> str:
    """The case's stage as ops search for it in the Web UI (search attribute VcsStage)."""
    if state.closed:
        return "closed"
    if state.hospital is not None:
        return "in_hospital"  # a hospital path (workflows/hospital.py)
    return custody_of(state).value  # in_custody, on_licence, unlawfully_at_large


def _spell(state: CaseState) -> list[tuple[KeyStage, date]]:
    """Key stages recorded since the offender was last taken back into custody."""
    starts = [
        i
        for i, (stage, _) in enumerate(state.key_stages)
        if stage in (KeyStage.RECALL, KeyStage.RETURNED_TO_CUSTODY)
    ]
    return state.key_stages[starts[-1] + 1 :] if starts else state.key_stages


def custody_since(state: CaseState) -> date:
    """The day the offender's present whereabouts began."""
    where = custody_of(state)
    if where is Custody.AT_LARGE and state.at_large_since is not None:
        return state.at_large_since
    if where is Custody.ON_LICENCE and state.milestones.release_date is not None:
        return state.milestones.release_date
    starts = [state.milestones.sentence_date]
    starts += [on for stage, on in state.key_stages if stage is KeyStage.RETURNED_TO_CUSTODY]
    if state.recalled_on is not None:
        starts.append(state.recalled_on)
    return max(starts)


def whereabouts(state: CaseState) -> str:
    """Where the offender is, in words for an error message."""
    where = custody_of(state)
    if where is Custody.AT_LARGE:
        return f"unlawfully at large since {state.at_large_since}"
    if where is Custody.ON_LICENCE:
        return f"on licence since {state.milestones.release_date}"
    if state.recalled_on is not None:
        return f"in custody, recalled on {state.recalled_on}"
    if state.hospital is not None:
        return f"detained in hospital since {custody_since(state)}"
    return f"in custody since {custody_since(state)}"


def date_problem(state: CaseState, stage: KeyStage, on: date, today: date) -> str | None:
    """The same stage on the same day twice, a date in the future or before the sentence."""
    name = stage.value
    if (stage, on) in state.key_stages:
        return f"{name} on {on} is already recorded"
    if on > today:
        return f"{name} date {on} is in the future"
    if on < state.milestones.sentence_date:
        return f"{name} date {on} is before the sentence"
    return None


def key_stage_problem(state: CaseState, stage: KeyStage, on: date, today: date) -> str | None:
    """Why this key stage cannot be recorded now, or None if it can."""
    problem = date_problem(state, stage, on, today)
    if problem is not None:
        return problem
    problem = patient_problem(state, stage)
    if problem is not None:
        return problem
    name, rule = stage.value, RULES[stage]
    earlier = next((d for s, d in state.key_stages if s is stage), None)
    if rule.once and earlier is not None:
        return f"{name} is already recorded, on {earlier}: {rule.once}"
    if custody_of(state) not in rule.allowed:
        return f"{name} cannot be recorded while the offender is {whereabouts(state)}: {rule.why}"
    since = custody_since(state)
    if on < since:
        return f"{name} date {on} is before the offender was {whereabouts(state)}"
    in_spell = next((d for s, d in _spell(state) if s is stage), None)
    if rule.once_per_custody and in_spell is not None:
        return (
            f"{name} is already recorded, on {in_spell}, in this spell in custody (since "
            f"{since}): {rule.once_per_custody}"
        )
    return None


def record(state: CaseState, stage: KeyStage, on: date) -> None:
    """Note the key stage on the case and where it leaves the offender."""
    state.key_stages.append((stage, on))
    if stage is KeyStage.RECALL:
        state.recalled_on = on
    elif stage in URGENT:
        state.at_large_since = on
    elif stage is KeyStage.RETURNED_TO_CUSTODY:
        state.at_large_since = None


def release_problem(state: CaseState, on: date) -> str | None:
    """A release the key stages forbid (record_release checks the dates themselves): never
    while at large; after a recall, only a release on or after the recall."""
    if state.at_large_since is not None:
        return (
            f"the offender is unlawfully at large since {state.at_large_since}: record "
            "returned_to_custody first"
        )
    if state.recalled_on is not None and on < state.recalled_on:
        return f"release date {on} is before the recall on {state.recalled_on}"
    return None
