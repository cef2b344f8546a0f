"""Implausible dates are refused before anything changes (models/plausibility.py), whichever
way they arrive: through the command line, or as an update sent straight to the case workflow.
A refused registration writes no row and starts no workflow; the reason is in the error."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from models.case import MilestoneDates, Offence, OffenderCase
from models.db import session_scope
from models.messages import RecordConditions, RecordMilestones, RecordRelease
from models.plausibility import condition_problems, referral_problems, release_date_problems
from models.policy import NEW_REFERRAL_MAX_YEARS
from models.records import AuditEntry, Correspondence, LicenceCondition, VloTask
from models.victim import Victim
from models.vocabulary import ConditionKind
from tests.cli_harness import VICTIM, Cli, case_args, count, today, workflow_exists
from tests.conftest import unique_ref
from workflows.case import CaseWorkflow, case_workflow_id

DAY = timedelta(days=1)


def nothing_written(cli: Cli) -> bool:
    return all(
        count(cli.engine, model) == 0
        for model in (OffenderCase, Offence, VloTask, AuditEntry, Victim, Correspondence)
    )


# ---- the rules ------------------------------------------------------------------------------


def test_rules_name_the_dates_and_the_reason() -> None:
    now = date(2026, 12, 6)
    old = MilestoneDates(sentence_date=date(1900, 1, 1), conditional_release_date=date(1901, 1, 1))
    [problem] = referral_problems(old, now, custodial=True)
    assert "1900-01-01" in problem and f"more than {NEW_REFERRAL_MAX_YEARS} years ago" in problem
    assert "local policy" in problem
    future = MilestoneDates(sentence_date=date(3000, 1, 1))
    assert "in the future" in referral_problems(future, now, custodial=True)[0]
    ended = MilestoneDates(sentence_date=date(2022, 1, 3), licence_expiry_date=date(2025, 1, 3))
    assert "ended on 2025-01-03" in referral_problems(ended, now, custodial=True)[0]
    assert referral_problems(ended, now, custodial=False) == []  # hospital: no licence end
    recent = MilestoneDates(sentence_date=now, licence_expiry_date=now + 700 * DAY)
    assert referral_problems(recent, now, custodial=True) == []
    # A life sentence from 50 years ago may still be referred (parole, a victim coming forward).
    life = MilestoneDates(sentence_date=date(1976, 12, 6))
    assert referral_problems(life, now, custodial=True) == []

    m = MilestoneDates(
        sentence_date=date(2026, 1, 5),
        conditional_release_date=date(2027, 1, 5),
        licence_expiry_date=date(2028, 1, 5),
    )
    assert release_date_problems(m, date(2026, 1, 4), now)[0].endswith(
        "is before the sentence date 2026-01-05"
    )
    assert "in the future" in release_date_problems(m, now + DAY, now)[0]
    assert release_date_problems(m, now, now) == []
    late = condition_problems(m, date(2028, 2, 1), None, hospital=False)
    assert late == [
        "condition starts 2028-02-01, after the licence and supervision end 2028-01-05: "
        "conditions run within the licence period"
    ]
    assert "ends 3000-01-01" in condition_problems(m, date(2027, 1, 5), date(3000, 1, 1), False)[0]
    assert "before the sentence date" in condition_problems(m, date(2025, 1, 1), None, False)[0]
    assert condition_problems(m, date(2028, 2, 1), None, hospital=True) == []
    assert condition_problems(m, date(2027, 1, 5), date(2028, 1, 5), hospital=False) == []


# ---- registration: refused before the first write ---------------------------------------------


async def test_a_case_sentenced_in_1900_is_refused_and_leaves_nothing(
    cli: Cli, local_env: WorkflowEnvironment
) -> None:
    case_ref = unique_ref("PLA")
    args = case_args(
        case_ref, date(1900, 1, 1), crd=date(1901, 1, 1), led=date(1902, 1, 1), sed=date(1902, 1, 1)
    )
    first = await cli.refused(*args)
    assert "sentence date 1900-01-01 is more than" in first and "check the year" in first
    assert await cli.refused(*args) == first  # the same reason again, not "case is closed"
    assert nothing_written(cli)
    assert not await workflow_exists(local_env, case_workflow_id(case_ref))


async def test_a_case_sentenced_in_3000_is_refused_and_leaves_nothing(
    cli: Cli, local_env: WorkflowEnvironment
) -> None:
    case_ref = unique_ref("PLA")
    error = await cli.refused(*case_args(case_ref, date(3000, 1, 1)))
    assert "sentence date 3000-01-01 is in the future" in error
    assert nothing_written(cli)
    assert not await workflow_exists(local_env, case_workflow_id(case_ref))


async def test_a_case_whose_licence_has_ended_is_refused_and_leaves_nothing(
    cli: Cli, local_env: WorkflowEnvironment
) -> None:
    case_ref = unique_ref("PLA")
    sentenced = today() - timedelta(days=1200)
    led = sentenced + timedelta(days=730)
    error = await cli.refused(*case_args(case_ref, sentenced, led=led, sed=led))
    assert f"the scheme for this case ended on {led}" in error
    assert nothing_written(cli)
    assert not await workflow_exists(local_env, case_workflow_id(case_ref))


async def test_no_victim_or_condition_is_written_for_a_closed_case(cli: Cli) -> None:
    case_ref = unique_ref("PLA")
    await cli.ok(*case_args(case_ref, today() - timedelta(days=30)))
    died = (today() - DAY).isoformat()
    await cli.ok("record-key-stage", "--case", case_ref, "--stage", "death", "--date", died)
    audit = count(cli.engine, AuditEntry)
    error = await cli.refused("add-victim", "--case", case_ref, "--details", cli.details(**VICTIM))
    assert f"case {case_ref} is closed" in error
    error = await cli.refused(
        "record-conditions", "--case", case_ref, "--kind", "no_contact", "--victim-related",
        "--text-file", cli.text("Not to contact the victim"), "--starts", today().isoformat(),
    )  # fmt: skip
    assert f"case {case_ref} is closed" in error
    assert count(cli.engine, Victim) == 0
    assert count(cli.engine, LicenceCondition) == 0
    assert count(cli.engine, AuditEntry) == audit


# ---- the same rules on the case workflow's updates ----------------------------------------------


async def refused_update(cli: Cli, case_ref: str, update: object, arg: object) -> str:
    handle = cli.vcs.client.get_workflow_handle(case_workflow_id(case_ref))
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(update, arg)  # type: ignore[call-overload]
    cause = failed.value.cause
    assert cause is not None
    return str(cause)


async def test_conditions_outside_the_licence_are_refused_by_the_cli_and_the_update(
    cli: Cli,
) -> None:
    case_ref = unique_ref("PLA")
    sentenced = today() - timedelta(days=30)
    led = sentenced + timedelta(days=730)
    await cli.ok(*case_args(case_ref, sentenced))
    flags = ["record-conditions", "--case", case_ref, "--kind", "no_contact", "--victim-related"]
    flags += ["--text-file", cli.text("Not to contact the victim")]
    after = (led + DAY).isoformat()
    error = await cli.refused(*flags, "--starts", after)
    assert f"condition starts {after}, after the licence and supervision end {led}" in error
    error = await cli.refused(*flags, "--starts", (led - DAY).isoformat(), "--ends", "3000-01-01")
    assert "condition ends 3000-01-01" in error
    assert count(cli.engine, LicenceCondition) == 0

    # A row written some other way is refused by the workflow itself, and changes nothing there.
    with session_scope(cli.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()
        row = LicenceCondition(
            case_id=case.id or 0,
            kind=ConditionKind.NO_CONTACT,
            description="Not to contact the victim",
            victim_related=True,
            starts_on=date(3000, 1, 1),
            recorded_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        condition_id = row.id or 0
    error = await refused_update(
        cli,
        case_ref,
        CaseWorkflow.record_conditions,
        RecordConditions(condition_ids=[condition_id], by="vlo.jones"),
    )
    assert "condition starts 3000-01-01, after the licence and supervision end" in error
    handle = cli.vcs.client.get_workflow_handle(case_workflow_id(case_ref))
    assert (await handle.query(CaseWorkflow.view)).closed is False


async def test_milestones_and_releases_out_of_order_are_refused_by_the_cli_and_the_update(
    cli: Cli,
) -> None:
    case_ref = unique_ref("PLA")
    sentenced = today() - timedelta(days=30)
    await cli.ok(*case_args(case_ref, sentenced))
    crd, led = sentenced + timedelta(days=365), sentenced + timedelta(days=730)

    # Through the command line.
    error = await cli.refused("record-milestones", "--case", case_ref, "--crd", "3000-01-01")
    assert f"conditional release date 3000-01-01 is after the licence expiry date {led}" in error
    before = (sentenced - DAY).isoformat()
    error = await cli.refused("record-release", "--case", case_ref, "--date", before)
    assert f"release date {before} is before the sentence date {sentenced}" in error

    # Straight to the workflow.
    wrong = MilestoneDates(
        sentence_date=sentenced,
        conditional_release_date=date(3000, 1, 1),
        licence_expiry_date=led,
        sentence_expiry_date=led,
    )
    error = await refused_update(
        cli,
        case_ref,
        CaseWorkflow.record_milestones,
        RecordMilestones(milestones=wrong, by="vlo.jones"),
    )
    assert "conditional release date 3000-01-01 is after the licence expiry date" in error
    error = await refused_update(
        cli,
        case_ref,
        CaseWorkflow.record_release,
        RecordRelease(on=date(3000, 1, 1), by="vlo.jones"),
    )
    assert "release date 3000-01-01 is in the future" in error
    early = RecordRelease(on=sentenced - DAY, by="vlo.jones")
    error = await refused_update(cli, case_ref, CaseWorkflow.record_release, early)
    assert f"is before the sentence date {sentenced}" in error
    # The sentence date is the registration's (checked there): an update cannot move it.
    later = {"sentence_date": sentenced + DAY, "conditional_release_date": crd}
    moved = RecordMilestones(milestones=wrong.model_copy(update=later), by="vlo.jones")
    error = await refused_update(cli, case_ref, CaseWorkflow.record_milestones, moved)
    assert "the sentence date cannot change" in error

    with session_scope(cli.engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()
        assert (case.conditional_release_date, case.release_date) == (crd, None)
