"""The sentence's dates as the VLO records them on the case: milestones recalculated, the
release (and a re-release after a recall), and the licence conditions imposed, each told to
the victims: mixed into CaseWorkflow (workflows/case.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from models.activity_requests import SaveMilestones
    from models.audit import AuditDetail
    from models.key_stages import release_problem
    from models.messages import ActionResult, RecordConditions, RecordMilestones, RecordRelease
    from models.plausibility import condition_problems, release_date_problems

from workflows.case_host import CaseHost
from workflows.common import next_note, rejected, today
from workflows.steps import call, step

CONFIRM_RELEASE_TASK = "confirm-release"


class CaseRelease(CaseHost):
    async def _save_milestones(self, key: str, by: str, summary: str) -> None:
        assert self.state is not None
        await step(
            CaseStoreActivities.save_milestones,
            SaveMilestones(
                idempotency_key=f"{workflow.info().workflow_id}:{key}",
                case_id=self.case_id,
                milestones=self.state.milestones,
                by=by,
            ),
            summary=summary,
        )

    @workflow.update
    async def record_milestones(self, action: RecordMilestones) -> ActionResult:
        async with self._vlo_action():
            self._check_milestones(action)
            state = self._open_state()
            state.milestones = action.milestones
            state.event_sequence += 1
            await self._save_milestones(
                f"milestones:{state.event_sequence}", action.by, "save milestones"
            )
            await self._broadcast("milestones_changed")
            await self._follow_parole_eligibility(action.by)
            return ActionResult(
                message="milestones recorded; every timer follows the new dates; "
                f"{next_note(self.view().scheduled)}"
            )

    @record_milestones.validator
    def _check_milestones(self, action: RecordMilestones) -> None:
        state = self._open_state()
        problems = action.milestones.problems()
        if problems:
            raise rejected("; ".join(problems))
        if action.milestones.sentence_date != state.milestones.sentence_date:
            raise rejected("the sentence date cannot change: register the new sentence as a case")
        if action.milestones.release_date != state.milestones.release_date:
            raise rejected("record the release as a release, not as a milestone")

    @workflow.update
    async def record_release(self, action: RecordRelease) -> ActionResult:
        async with self._vlo_action():
            self._check_release(action)
            state = self._open_state()
            if state.recalled_on is not None:
                return await self._record_re_release(action)
            state.milestones = state.milestones.model_copy(update={"release_date": action.on})
            state.event_sequence += 1
            await self._save_milestones(f"release:{action.on}", action.by, "record release")
            await self.tasks.close(CONFIRM_RELEASE_TASK, action.by, f"released {action.on}")
            await self._broadcast("released", on=action.on)
            await self._end_open_review_on_release()
            return ActionResult(
                message=f"release on {action.on} recorded; victims told the month; "
                f"{next_note(self.view().scheduled)}"
            )

    async def _record_re_release(self, action: RecordRelease) -> ActionResult:
        """Released again after a recall (models/key_stages.py): the recall ends, the release
        date is the new one, and victims are told as of the first release (the month only)."""
        state = self._open_state()
        recalled_on, state.recalled_on = state.recalled_on, None
        state.milestones = state.milestones.model_copy(update={"release_date": action.on})
        state.event_sequence += 1
        await self._save_milestones(
            f"re-release:{state.event_sequence}", action.by, "record re-release"
        )
        await self._broadcast("released", on=action.on, re_release=True)
        await self._end_open_review_on_release()
        return ActionResult(
            message=f"release on {action.on} after the recall of {recalled_on} recorded; "
            "victims told the month"
        )

    @record_release.validator
    def _check_release(self, action: RecordRelease) -> None:
        state = self._open_state()
        m = state.milestones
        if state.hospital is not None:
            raise rejected(
                f"case {self.params.case_ref} is on a hospital path: record a discharge "
                "or a remission to prison"
            )
        problem = release_problem(state, action.on)
        if problem is not None:
            raise rejected(problem)
        if m.release_date is not None and state.recalled_on is None:
            raise rejected(f"the release on {m.release_date} is already recorded")
        problems = release_date_problems(m, action.on, today())
        if problems:
            raise rejected("; ".join(problems))

    @workflow.update
    async def record_conditions(self, action: RecordConditions) -> ActionResult:
        async with self._vlo_action():
            self._check_conditions(action)
            state = self._open_state()
            notices = await call(
                CaseStoreActivities.load_conditions, self.case_id, action.condition_ids
            )
            # The dates are in the rows the IDs name: checked once loaded, before anything changes.
            problems = [
                problem
                for n in notices
                if n.starts_on is not None
                for problem in condition_problems(
                    state.milestones, n.starts_on, n.ends_on, state.hospital is not None
                )
            ]
            if problems:
                raise rejected("; ".join(problems))
            state.conditions.extend(notices)
            await self._audit(
                "conditions_recorded", action.by, AuditDetail.of(conditions=action.condition_ids)
            )
            # DVCVA s 35(7): victims are told the conditions relating to contact with them.
            await self._broadcast("conditions_imposed", conditions=notices)
            related = sum(1 for n in notices if n.victim_related)
            told = (
                "opted-in victims told the victim-related ones"
                if related
                else "none is victim-related, so no victim is written to"
            )
            return ActionResult(
                message=f"{len(notices)} conditions recorded, {related} victim-related: {told}"
            )

    @record_conditions.validator
    def _check_conditions(self, action: RecordConditions) -> None:
        state = self._open_state()
        known = {c.condition_id for c in state.conditions}
        repeated = sorted(set(action.condition_ids) & known)
        if repeated:
            raise rejected(f"licence conditions {repeated} are already recorded")
