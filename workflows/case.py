"""One offender case: owns the sentence milestones and tells every victim's workflow what
happens (milestones recalculated, conditions imposed, release, key stages, the end)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.victims import VictimStarterActivities
    from models.messages import (
        ActionResult,
        AddVictims,
        AuditRecord,
        CaseClosure,
        CaseEvent,
        CaseInput,
        CaseState,
        CaseView,
        CompleteTask,
        RecordConditions,
        RecordKeyStage,
        RecordMilestones,
        RecordRelease,
        SaveMilestones,
        Scheduled,
        TaskOwner,
        VictimInput,
    )
    from models.vocabulary import TaskKind

from workflows.common import ENGINE_ACTOR, call, should_continue_as_new, sleep_until, today
from workflows.search import Published
from workflows.tasks import TaskBook
from workflows.victim import VictimWorkflow, rejected, victim_workflow_id

CONFIRM_RELEASE_TASK = "confirm-release"


def case_workflow_id(case_ref: str) -> str:
    return f"vcs-case-{case_ref}"


@workflow.defn(name="VictimContactCase")
class CaseWorkflow:
    @workflow.init
    def __init__(self, params: CaseInput) -> None:
        self.params = params
        self.state: CaseState | None = params.state
        self.case_id = params.case_id or 0
        self.responsible_vlo = params.responsible_vlo or ""
        self.lock = asyncio.Lock()
        self.changed = False
        self._tasks: TaskBook | None = None
        self.search = Published()

    @property
    def tasks(self) -> TaskBook:
        assert self._tasks is not None and self.state is not None
        return self._tasks

    @workflow.run
    async def run(self, params: CaseInput) -> str:
        run_started = workflow.now()
        async with self.lock:
            if self.state is None:
                snapshot = await call(
                    CaseStoreActivities.load_case, params.case_ref, summary="load case"
                )
                self.case_id, self.responsible_vlo = snapshot.case_id, snapshot.responsible_vlo
                self.params.provider, self.params.region = snapshot.provider, snapshot.region
                self.state = CaseState(milestones=snapshot.milestones)
                self._make_task_book()
                await self._start_victims(snapshot.victim_ids)
            else:
                self._make_task_book()
        state = self.state
        self._publish()
        while not state.closed:
            await sleep_until(self._next_wake(), run_started, lambda: self.changed)
            async with self.lock:
                self.changed = False
                await self._on_time_passing()
                self._publish()
            if not state.closed and should_continue_as_new(run_started):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    params.model_copy(
                        update={
                            "state": state,
                            "case_id": self.case_id,
                            "responsible_vlo": self.responsible_vlo,
                        }
                    )
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return f"case {params.case_ref} closed"

    def _publish(self) -> None:
        """Search attributes and 'current details' for ops in the Web UI (no personal data)."""
        assert self.state is not None
        m = self.state.milestones
        stage = "on_licence" if m.release_date else "in_custody"
        if self.state.closed:
            stage = "closed"
        self.search.publish(
            who=f"Case {self.params.case_ref} ({self.params.region})",
            case_ref=self.params.case_ref,
            stage=stage,
            provider=self.params.provider,
            region=self.params.region,
            due_dates=[t.due_on for t in self.state.tasks],
            upcoming=[(item.on, item.what) for item in self.view().scheduled],
            extra=f"{len(self.state.victim_ids)} victim(s)",
        )

    def _make_task_book(self) -> None:
        assert self.state is not None
        self._tasks = TaskBook(
            self.state.tasks,
            TaskOwner(
                workflow_id=workflow.info().workflow_id,
                case_id=self.case_id,
                responsible_vlo=self.responsible_vlo,
            ),
            self.params.policy,
        )

    def _next_wake(self) -> date | None:
        assert self.state is not None
        m = self.state.milestones
        candidates = [m.scheme_end(), self.tasks.next_escalation()]
        if m.release_date is None and CONFIRM_RELEASE_TASK not in {t.key for t in self.state.tasks}:
            candidates.append(m.conditional_release_date)
        return min((d for d in candidates if d is not None), default=None)

    async def _on_time_passing(self) -> None:
        assert self.state is not None
        m, now = self.state.milestones, today()
        await self.tasks.escalate_overdue()
        crd = m.conditional_release_date
        if m.release_date is None and crd is not None and now >= crd:
            # The prison releases automatically at the conditional release date; the VLO
            # must confirm it so victims are told (DVCVA s 35(7); Victims' Code).
            await self.tasks.open(
                CONFIRM_RELEASE_TASK,
                TaskKind.CONFIRM_RELEASE,
                "Confirm the offender's release",
                crd,
            )
        end = m.scheme_end()
        if end is not None and now >= end:
            await self._close()

    async def _close(self) -> None:
        """The scheme ends when licence and supervision end: tell every victim, then close."""
        assert self.state is not None
        await self._broadcast("ended")
        await self.tasks.close_all(ENGINE_ACTOR, "case closed")
        await call(
            CaseStoreActivities.close_case,
            CaseClosure(
                idempotency_key=f"{workflow.info().workflow_id}:closed",
                case_id=self.case_id,
                by=ENGINE_ACTOR,
            ),
            summary="close case",
        )
        self.state.closed = True

    async def _start_victims(self, victim_ids: list[int]) -> None:
        assert self.state is not None
        for victim_id in victim_ids:
            workflow_id = victim_workflow_id(self.params.case_ref, victim_id)
            if victim_id in self.state.victim_ids:
                continue
            # Victims' workflows stand alone: they outlive any one run of the case.
            await call(
                VictimStarterActivities.start_victim_workflow,
                VictimInput(
                    case_ref=self.params.case_ref,
                    case_id=self.case_id,
                    victim_id=victim_id,
                    responsible_vlo=self.responsible_vlo,
                    provider=self.params.provider,
                    region=self.params.region,
                    policy=self.params.policy,
                    milestones=self.state.milestones,
                    conditions=self.state.conditions,
                ),
                workflow_id,
                summary=f"start victim {victim_id}",
            )
            self.state.victim_ids.append(victim_id)

    async def _broadcast(self, kind: str, **fields: object) -> None:
        assert self.state is not None
        self.state.event_sequence += 1
        event = CaseEvent(
            kind=kind,
            sequence=self.state.event_sequence,
            milestones=self.state.milestones,
            **fields,
        )
        for victim_id in self.state.victim_ids:
            handle = workflow.get_external_workflow_handle(
                victim_workflow_id(self.params.case_ref, victim_id)
            )
            try:
                await handle.signal(VictimWorkflow.case_event, event)
            except Exception:  # the victim's workflow has ended; nothing more to tell
                workflow.logger.info("victim %s workflow has ended; event not sent", victim_id)

    def _open_state(self) -> CaseState:
        if self.state is None:
            raise rejected(f"case {self.params.case_ref} is still starting: try again")
        if self.state.closed:
            raise rejected(f"case {self.params.case_ref} is closed")
        return self.state

    async def _save_milestones(self, key: str, by: str, summary: str) -> None:
        assert self.state is not None
        await call(
            CaseStoreActivities.save_milestones,
            SaveMilestones(
                idempotency_key=f"{workflow.info().workflow_id}:{key}",
                case_id=self.case_id,
                milestones=self.state.milestones,
                by=by,
            ),
            summary=summary,
        )

    async def _audit(self, action: str, by: str, detail: str) -> None:
        assert self.state is not None
        await call(
            CaseStoreActivities.record_audit,
            AuditRecord(
                idempotency_key=f"{workflow.info().workflow_id}:{action}:{self.state.event_sequence}",
                case_id=self.case_id,
                actor=by,
                action=action,
                detail=detail,
            ),
            summary=action,
        )

    @asynccontextmanager
    async def _vlo_action(self) -> AsyncIterator[None]:
        """One VLO action at a time; afterwards the main loop re-plans and republishes."""
        async with self.lock:
            yield
            self.changed = True

    # ---- VLO actions ---------------------------------------------------------------------

    @workflow.update
    async def add_victims(self, action: AddVictims) -> list[str]:
        await workflow.wait_condition(lambda: self.state is not None)
        async with self._vlo_action():
            self._open_state()
            if action.victim_ids:
                await call(CaseStoreActivities.victims_of_case, self.case_id, action.victim_ids)
                await self._start_victims(action.victim_ids)
            assert self.state is not None
            return [victim_workflow_id(self.params.case_ref, v) for v in self.state.victim_ids]

    @add_victims.validator
    def _check_add_victims(self, action: AddVictims) -> None:
        if self.state is not None and self.state.closed:
            raise rejected(f"case {self.params.case_ref} is closed")
        if len(set(action.victim_ids)) != len(action.victim_ids):
            raise rejected("the same victim is listed twice")

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
            return ActionResult(message="milestones recorded; every timer follows the new dates")

    @record_milestones.validator
    def _check_milestones(self, action: RecordMilestones) -> None:
        state = self._open_state()
        problems = action.milestones.problems()
        if problems:
            raise rejected("; ".join(problems))
        if action.milestones.sentence_date != state.milestones.sentence_date:
            raise rejected("the sentence date cannot change: register the new sentence as a case")
        if action.milestones.release_date != state.milestones.release_date:
            raise rejected("record a release with record-release, not as a milestone")

    @workflow.update
    async def record_release(self, action: RecordRelease) -> ActionResult:
        async with self._vlo_action():
            self._check_release(action)
            state = self._open_state()
            state.milestones = state.milestones.model_copy(update={"release_date": action.on})
            state.event_sequence += 1
            await self._save_milestones(f"release:{action.on}", action.by, "record release")
            await self.tasks.close(CONFIRM_RELEASE_TASK, action.by, f"released {action.on}")
            await self._broadcast("released", on=action.on)
            return ActionResult(message=f"release on {action.on} recorded; victims told the month")

    @record_release.validator
    def _check_release(self, action: RecordRelease) -> None:
        state = self._open_state()
        m = state.milestones
        if m.release_date is not None:
            raise rejected(f"the release on {m.release_date} is already recorded")
        if action.on < m.sentence_date:
            raise rejected(
                f"release date {action.on} is before the sentence date {m.sentence_date}"
            )
        if action.on > today():
            raise rejected(
                f"release date {action.on} is in the future: record an expected release "
                "as the conditional release date"
            )
        if m.licence_expiry_date and action.on > m.licence_expiry_date:
            raise rejected(
                f"release date {action.on} is after licence expiry {m.licence_expiry_date}"
            )

    @workflow.update
    async def record_conditions(self, action: RecordConditions) -> ActionResult:
        async with self._vlo_action():
            self._check_conditions(action)
            state = self._open_state()
            notices = await call(
                CaseStoreActivities.load_conditions, self.case_id, action.condition_ids
            )
            state.conditions.extend(notices)
            await self._audit(
                "conditions_recorded", action.by, f"licence conditions {action.condition_ids}"
            )
            # DVCVA s 35(7): victims are told the conditions relating to contact with them.
            await self._broadcast("conditions_imposed", conditions=notices)
            related = sum(1 for n in notices if n.victim_related)
            return ActionResult(
                message=f"{len(notices)} conditions recorded, {related} victim-related"
            )

    @record_conditions.validator
    def _check_conditions(self, action: RecordConditions) -> None:
        state = self._open_state()
        known = {c.condition_id for c in state.conditions}
        repeated = sorted(set(action.condition_ids) & known)
        if repeated:
            raise rejected(f"licence conditions {repeated} are already recorded")

    @workflow.update
    async def record_key_stage(self, action: RecordKeyStage) -> ActionResult:
        async with self._vlo_action():
            self._check_key_stage(action)
            state = self._open_state()
            state.key_stages.append((action.key_stage, action.on))
            await self._broadcast("key_stage", key_stage=action.key_stage, on=action.on)
            await self._audit("key_stage", action.by, f"{action.key_stage.value} on {action.on}")
            return ActionResult(message=f"{action.key_stage.value} recorded and victims told")

    @record_key_stage.validator
    def _check_key_stage(self, action: RecordKeyStage) -> None:
        state = self._open_state()
        if (action.key_stage, action.on) in state.key_stages:
            raise rejected(f"{action.key_stage.value} on {action.on} is already recorded")
        if action.on > today():
            raise rejected(f"{action.key_stage.value} date {action.on} is in the future")
        if action.on < state.milestones.sentence_date:
            raise rejected(f"{action.key_stage.value} date {action.on} is before the sentence")

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        async with self._vlo_action():
            self._check_complete_task(action)
            task = self.tasks.find(action.task_id)
            assert task is not None
            await self.tasks.close(task.key, action.by, action.outcome)
            return ActionResult(message=f"task {action.task_id} completed")

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self._open_state()
        if self.tasks.find(action.task_id) is None:
            raise rejected(
                f"task {action.task_id} is not an open task of case {self.params.case_ref}"
            )

    # ---- queries ---------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        state = self._open_state() if self.state is None else self.state
        m = state.milestones
        scheduled = [
            Scheduled(on=t.due_on, what=f"task {t.task_id} {t.kind.value} due") for t in state.tasks
        ]
        if m.release_date is None and m.conditional_release_date:
            scheduled.append(
                Scheduled(on=m.conditional_release_date, what="conditional release date")
            )
        end = m.scheme_end()
        if end:
            scheduled.append(Scheduled(on=end, what="scheme ends (licence and supervision end)"))
        return CaseView(
            case_ref=self.params.case_ref,
            milestones=m,
            victim_workflow_ids=[
                victim_workflow_id(self.params.case_ref, v) for v in state.victim_ids
            ],
            open_tasks=list(state.tasks),
            scheduled=sorted(scheduled, key=lambda s: s.on),
            closed=state.closed,
        )
