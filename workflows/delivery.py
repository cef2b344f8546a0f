"""The delivery-status job (Temporal Schedule `vcs-delivery-status`, every hour; see
workflows/schedules.py): follows every email and text message Notify accepted to a final status,
and tells the workflow that sent a failed one, which opens the undelivered task.

The reading is one activity (activities/delivery.py); the history carries counts, workflow ids
and letter keys only. Each failure is told exactly once: the activity marks it with
this run's id as it returns it, and a signal sent is part of this run's history.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.delivery import DeliveryActivities
    from models.delivery import DeliveryPollInput, StatusPollResult

from workflows.common import DB_RETRY

# Up to 500 look-ups of a few hundred milliseconds each: minutes, not the 30 s of a case's step.
POLL_TIMEOUT = timedelta(minutes=10)
# The signal every workflow that sends letters handles (CaseWorkflow for its victims and its
# Parole Board reviews).
UNDELIVERED_SIGNAL = "letter_undelivered"


@workflow.defn(name="DeliveryStatus")
class DeliveryStatusWorkflow:
    @workflow.run
    async def run(self, params: DeliveryPollInput) -> StatusPollResult:
        result: StatusPollResult = await workflow.execute_activity_method(
            DeliveryActivities.poll_statuses,
            args=[params, workflow.info().run_id],
            start_to_close_timeout=POLL_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="read Notify's delivery statuses",
        )
        for workflow_id, notice in result.undelivered:
            try:
                await workflow.get_external_workflow_handle(workflow_id).signal(
                    UNDELIVERED_SIGNAL, notice
                )
            except FailureError:
                # The workflow has ended (the victim's part in the scheme is over) or never
                # was: the outbox still shows the failure.
                workflow.logger.warning(
                    "letter %s undelivered: workflow %s has ended", notice.letter_id, workflow_id
                )
        return result
