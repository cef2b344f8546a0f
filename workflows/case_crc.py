"""The key events a CRC reports to the NPS VLO about a case it supervises: mixed into
CaseWorkflow (workflows/case.py) through workflows/case_handoffs.py."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from models.activity_requests import AuditRecord
    from models.audit import AuditDetail
    from models.handoff import HandoffPolicy, ReportCrcEvent
    from models.messages import ActionResult
    from models.vocabulary import Provider, TaskKind
    from models.working_days import add_working_days

from workflows.case_host import CaseHost
from workflows.common import rejected, today
from workflows.steps import call


class CaseCrcEvents(CaseHost):
    @workflow.update
    async def report_crc_event(self, action: ReportCrcEvent) -> ActionResult:
        """000_5a1d5e000983110f.txt ('Victims'): CRCs are contractually required to support the
        NPS by giving its staff key information about offenders, so the VLO can tell victims.
        Each report is a task for the VLO; a report after the agreed time is recorded as late."""
        async with self._vlo_action():
            self._check_crc_event(action)
            state = self._open_state()
            policy = HandoffPolicy()
            reported_on = today()
            calendar = self.params.policy.bank_holidays
            report_due = add_working_days(
                action.occurred_on, policy.crc_report_working_days, calendar
            )
            late = reported_on > report_due
            due = add_working_days(reported_on, policy.crc_action_working_days, calendar)
            state.crc_events.append((action.kind.value, action.occurred_on))
            key = f"crc-{action.kind.value}-{action.occurred_on}"
            lateness = f"LATE (due by {report_due})" if late else "on time"
            await call(
                CaseStoreActivities.record_audit,
                AuditRecord(
                    idempotency_key=f"{workflow.info().workflow_id}:{key}",
                    case_id=self.case_id,
                    actor=action.by,
                    action="crc_event_reported_late" if late else "crc_event_reported",
                    detail=AuditDetail.of(
                        event=action.kind,
                        occurred_on=action.occurred_on,
                        reported_on=reported_on,
                        report_due=report_due,
                    ),
                ),
                summary="crc event reported",
            )
            task = await self.tasks.open(
                key,
                TaskKind.CRC_EVENT,
                f"CRC reported {action.kind.value} of {action.occurred_on} ({lateness}): "
                "tell victims as needed",
                due,
            )
            return ActionResult(
                message=f"{action.kind.value} of {action.occurred_on} reported {lateness}; "
                f"task {task.task_id} for {self.responsible_vlo} due {due}"
            )

    @report_crc_event.validator
    def _check_crc_event(self, action: ReportCrcEvent) -> None:
        state = self._open_state()
        ref = self.params.case_ref
        if self.params.provider != Provider.CRC.value:
            raise rejected(
                f"case {ref} is supervised by {self.params.provider}: only a CRC-supervised "
                "case reports events to the NPS VLO"
            )
        if action.occurred_on > today():
            raise rejected(f"{action.kind.value} date {action.occurred_on} is in the future")
        if action.occurred_on < state.milestones.sentence_date:
            raise rejected(f"{action.kind.value} date {action.occurred_on} is before the sentence")
        if (action.kind.value, action.occurred_on) in state.crc_events:
            raise rejected(f"{action.kind.value} of {action.occurred_on} is already reported")
