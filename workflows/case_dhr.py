"""Domestic homicide reviews (DVCVA 2004 s 9) the case's provider is directed to take part
in: mixed into CaseWorkflow (workflows/case.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.audit import AuditDetail
    from models.messages import ActionResult
    from models.sharing import RecordDhrDirection
    from models.vocabulary import TaskKind

from workflows.case_host import CaseHost
from workflows.common import rejected, today


class CaseDhr(CaseHost):
    @workflow.update
    async def record_dhr_direction(self, action: RecordDhrDirection) -> ActionResult:
        """DVCVA 2004 s 9: a provider directed to take part in a domestic homicide review must
        do so; the duty applies to every provider, NPS and CRC alike (000_5a1d5e000983110f.txt:
        "applies automatically"). Recorded in the audit trail; a VLO task falls due on the
        date given and escalates, like any task, when overdue."""
        async with self._vlo_action():
            self._check_dhr_direction(action)
            state = self._open_state()
            state.event_sequence += 1
            await self._audit(
                "dhr_directed",
                action.by,
                AuditDetail.of(directed_on=action.directed_on, due_on=action.due_on),
                note=f"directed by {action.reviewed_by}",  # typed by the VLO: a CaseNote
            )
            task = await self.tasks.open(
                f"dhr:{action.directed_on}:{state.event_sequence}",
                TaskKind.DOMESTIC_HOMICIDE_REVIEW,
                f"Take part in the domestic homicide review directed on {action.directed_on} "
                "(DVCVA s 9)",
                action.due_on,
            )
            return ActionResult(
                message=f"domestic homicide review recorded: task {task.task_id} "
                f"due {action.due_on}"
            )

    @record_dhr_direction.validator
    def _check_dhr_direction(self, action: RecordDhrDirection) -> None:
        self._open_state()
        if action.due_on < action.directed_on:
            raise rejected(
                f"the review is due {action.due_on}, before it was directed {action.directed_on}"
            )
        if action.directed_on > today():
            raise rejected(f"direction date {action.directed_on} is in the future")
        if any(
            t.kind is TaskKind.DOMESTIC_HOMICIDE_REVIEW
            and t.key.startswith(f"dhr:{action.directed_on}:")
            for t in self.tasks.tasks
        ):
            raise rejected(
                f"a domestic homicide review directed on {action.directed_on} is already open"
            )
