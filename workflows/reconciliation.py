"""The daily reconciliation: one run a day (Temporal Schedule `vcs-daily-reconciliation`,
06:00 Europe/London; see workflows/schedules.py) lists every open VLO task due that day or
overdue, across all open cases, per region, for the VLOs and their managers.

The work is one activity (activities/reports.py); the history carries the date and counts only.
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.reports import ReportActivities
    from models.reports import ReconciliationInput, ReconciliationResult

from workflows.common import DB_RETRY, today

# A national run reads every open task due: allow minutes, not the 30 s of a case's step.
RECONCILIATION_TIMEOUT = timedelta(minutes=10)


@workflow.defn(name="DailyReconciliation")
class DailyReconciliationWorkflow:
    @workflow.run
    async def run(self, params: ReconciliationInput) -> ReconciliationResult:
        # Deadlines fall due at the start of a London day (workflows/common.py): the same
        # clock decides what is due today here.
        report_date = params.report_date or today()
        return await workflow.execute_activity_method(
            ReportActivities.reconcile_tasks,
            report_date,
            start_to_close_timeout=RECONCILIATION_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"reconcile tasks due by {report_date}",
        )
