"""Retention: once a week (Temporal Schedule `vcs-retention`; see workflows/schedules.py)
erase the personal data of every case closed longer than the retention period, case by case,
and check each erasure by re-reading the rows (activities/retention.py says what and why).

Cases are visited in ID order behind a cursor, a batch per run: a run continues as new after
each full batch, so the history stays small however many cases fall due at once. A case whose
erasure cannot be verified does not stop the others; the run fails at the end, naming the case
IDs, so the failure shows in the Web UI (and the case is tried again next week).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities
    from models.reports import (
        ErasureOutcome,
        ErasureRequest,
        ExpiredCases,
        ExpiredCasesQuery,
        RetentionInput,
        RetentionResult,
        VerificationOutcome,
    )

from workflows.common import DB_RETRY, ENGINE_ACTOR, call

RETENTION_ACTOR = f"{ENGINE_ACTOR}:retention"
FIND_TIMEOUT = timedelta(minutes=5)


@workflow.defn(name="Retention")
class RetentionWorkflow:
    @workflow.run
    async def run(self, params: RetentionInput) -> RetentionResult:
        as_of = params.as_of or workflow.now()
        progress = params.progress
        found: ExpiredCases = await workflow.execute_activity_method(
            RetentionActivities.find_expired_cases,
            ExpiredCasesQuery(
                as_of=as_of,
                retention_days=params.retention_days,
                after_case_id=params.after_case_id,
                limit=params.batch_size,
            ),
            start_to_close_timeout=FIND_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="find cases past the retention period",
        )
        for case_id in found.case_ids:
            erased: ErasureOutcome = await call(
                RetentionActivities.erase_case,
                ErasureRequest(
                    case_id=case_id,
                    retention_days=found.retention_days,
                    cutoff=found.cutoff,
                    by=RETENTION_ACTOR,
                ),
                summary=f"erase case {case_id}",
            )
            if erased.skipped:
                continue
            checked: VerificationOutcome = await call(
                RetentionActivities.verify_erasure, case_id, summary=f"verify case {case_id}"
            )
            progress.cases_erased += 1
            progress.victims += erased.victims
            progress.representations += erased.representations
            progress.licence_conditions += erased.licence_conditions
            progress.correspondence += erased.correspondence
            if not checked.verified:
                progress.failed_case_ids.append(case_id)
        if len(found.case_ids) == params.batch_size:
            workflow.continue_as_new(
                params.model_copy(
                    update={
                        "as_of": as_of,
                        "retention_days": found.retention_days,
                        "after_case_id": found.case_ids[-1],
                        "progress": progress,
                    }
                )
            )
        if progress.failed_case_ids:
            raise ApplicationError(
                f"erasure not verified for case IDs {progress.failed_case_ids}: "
                "see their ErasureRecord rows",
                type="ErasureNotVerified",
                non_retryable=True,
            )
        return RetentionResult(
            retention_days=found.retention_days, cutoff=found.cutoff, progress=progress
        )
