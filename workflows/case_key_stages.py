"""Key stages in custody recorded on the case (domain.md 'In custody'; the rules are
models/key_stages.py): mixed into CaseWorkflow (workflows/case.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.audit import AuditDetail
    from models.key_stages import ENDS_THE_CASE, URGENT, key_stage_problem
    from models.key_stages import record as note_key_stage
    from models.messages import ActionResult, RecordKeyStage
    from models.vocabulary import KeyStage, TaskKind

from workflows.case_host import CaseHost
from workflows.common import rejected, today


class CaseKeyStages(CaseHost):
    @workflow.update
    async def record_key_stage(self, action: RecordKeyStage) -> ActionResult:
        """A key stage (domain.md 'In custody'), recorded once as models/key_stages.py defines
        it and told to every opted-in victim who asked for it (workflows/victim_path.py). An escape
        or absconding also opens an urgent VLO task, before this answers; a death tells every
        victim and closes the case."""
        async with self._vlo_action():
            self._check_key_stage(action)
            state = self._open_state()
            stage, on = action.key_stage, action.on
            note_key_stage(state, stage, on)
            if stage is ENDS_THE_CASE:
                state.event_sequence += 1
                await self._audit("key_stage", action.by, AuditDetail.of(key_stage=stage, on=on))
                await self._close(ended_by=stage, on=on, by=action.by)
                return ActionResult(
                    message=f"{stage.value} recorded; every victim in the scheme told; "
                    f"case {self.params.case_ref} closed"
                )
            answer = f"{stage.value} recorded and victims told"
            if stage in URGENT:
                task = await self.tasks.open(
                    f"urgent:{stage.value}:{on}",
                    TaskKind.URGENT_KEY_STAGE,
                    f"URGENT: {stage.value} on {on}: reach every victim in the scheme now, by "
                    "phone where possible (EU Victims Directive art 6(5))",
                    today(),
                )
                answer += (
                    f"; urgent task {task.task_id} for {self.responsible_vlo} due {task.due_on}"
                )
            await self._broadcast("key_stage", key_stage=stage, on=on)
            await self._audit("key_stage", action.by, AuditDetail.of(key_stage=stage, on=on))
            return ActionResult(message=answer)

    @record_key_stage.validator
    def _check_new_key_stage(self, action: RecordKeyStage) -> None:
        if action.key_stage is KeyStage.PAROLE_REVIEW:
            # One way to record a parole review: the referral (refer_parole) starts the review
            # and records the key stage (domain.md 'Parole').
            raise rejected(
                "a Parole Board review is recorded by referring the case to the Parole Board: "
                "the referral records the key stage and invites the victims"
            )
        self._check_key_stage(action)

    def _check_key_stage(self, action: RecordKeyStage) -> None:
        state = self._open_state()
        if action.key_stage is KeyStage.TRANSFER_TO_HOSPITAL:
            # The transfer moves the case to the DVCVA s 42 path (workflows/hospital.py).
            raise rejected(
                "a transfer to hospital needs its transfer direction: record it as a transfer "
                "to hospital, naming the hospital (and the restriction direction if MHA 1983 "
                "s 49 applies)"
            )
        problem = key_stage_problem(state, action.key_stage, action.on, today())
        if problem is not None:
            raise rejected(problem)
