"""One offender case: owns the sentence milestones and holds its victims (workflows/
case_victims.py), telling each what happens (milestones recalculated, conditions imposed,
release, key stages, the end). One wake-up timer: the earliest date anything on the case, or on
any victim's path, falls due."""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from models.activity_requests import AuditRecord, CaseClosure
    from models.audit import AuditDetail
    from models.ids import case_workflow_id as case_workflow_id  # re-exported
    from models.key_stages import case_stage
    from models.policy import Policy
    from models.tasks import TaskOwner
    from models.vocabulary import KeyStage, TaskKind
    from models.workflow_state import CaseEvent, CaseInput, CaseState

from workflows.case_dhr import CaseDhr
from workflows.case_handoffs import CaseHandoffs
from workflows.case_key_stages import CaseKeyStages
from workflows.case_parole import CaseParole
from workflows.case_release import CONFIRM_RELEASE_TASK, CaseRelease
from workflows.case_reviews import CaseReviews
from workflows.case_tasks import CaseTasks
from workflows.case_victims import CaseVictims
from workflows.case_view import CaseViews
from workflows.common import ENGINE_ACTOR, rejected, today
from workflows.hospital_discharge import HospitalDischarge
from workflows.skeleton import Skeleton
from workflows.steps import call, step, unit_of_work
from workflows.tasks import TaskBook


@workflow.defn(name="VictimContactCase")
class CaseWorkflow(
    Skeleton,
    CaseRelease,
    CaseKeyStages,
    CaseTasks,
    CaseDhr,
    CaseViews,
    CaseParole,
    CaseReviews,
    CaseHandoffs,
    CaseVictims,
    HospitalDischarge,  # on workflows/hospital.py's HospitalCase
):
    @workflow.init
    def __init__(self, params: CaseInput) -> None:
        self.params = params
        self.state: CaseState | None = params.state
        self.case_id = params.case_id or 0
        self.responsible_vlo = params.responsible_vlo or ""
        self._start_skeleton()
        self._tasks: TaskBook | None = None
        self.victims = {}
        self.reviews = {}
        if self.state is not None:
            # A run carried on: its victims, reviews and tasks are there before any update's
            # validator runs (the SDK handles updates that arrive with the first task before
            # `run`).
            self._make_task_book()
            self._take_victims()
            self._take_reviews()

    @property
    def tasks(self) -> TaskBook:
        assert self._tasks is not None and self.state is not None
        return self._tasks

    @workflow.run
    async def run(self, params: CaseInput) -> str:
        run_started = workflow.now()
        async with self.lock, unit_of_work():
            if self.state is None:
                snapshot = await call(
                    CaseStoreActivities.load_case, params.case_ref, summary="load case"
                )
                self.case_id, self.responsible_vlo = snapshot.case_id, snapshot.responsible_vlo
                self.params.provider, self.params.region = snapshot.provider, snapshot.region
                self.state = CaseState(milestones=snapshot.milestones)
                self._take_hospital_status(snapshot.hospital)  # DVCVA ss 36-44A, if any
                self._make_task_book()
                if snapshot.victim_ids:
                    await self._add_victims(snapshot.victim_ids)
                await self._ask_for_hospital()
        await self._run_loop(run_started)  # workflows/skeleton.py
        return f"case {params.case_ref} closed"

    def _policy(self) -> Policy:
        return self.params.policy

    def _next_run(self, policy: Policy) -> CaseInput:
        return self.params.model_copy(
            update={
                "policy": policy,
                "state": self.state,
                "case_id": self.case_id,
                "responsible_vlo": self.responsible_vlo,
            }
        )

    async def _on_time_passing(self) -> None:
        """What falls due on the case (unless a VLO action closed it: a death), then on each
        victim's path (a letter held for a victim goes even once the case has closed)."""
        assert self.state is not None
        if not self.state.closed:
            await self._on_case_time_passing()
        await self._reviews_time_passing()
        await self._handoff_time_passing()
        await self._victims_time_passing()

    def _publish(self) -> None:
        """Search attributes and 'current details' for ops in the Web UI (no personal data)."""
        assert self.state is not None
        self.search.publish(
            who=f"Case {self.params.case_ref} ({self.params.region})",
            case_ref=self.params.case_ref,
            stage=case_stage(self.state),
            provider=self.params.provider,
            region=self.params.region,
            due_dates=[t.due_on for t in self.state.tasks]
            + self._review_due_dates()
            + self._victim_due_dates(),
            upcoming=[(item.on, item.what) for item in self.view().scheduled],
            extra=f"{len(self.state.victim_ids)} victim(s): {self._victim_stages()}",
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

    def _finished(self) -> bool:
        """The case closed, and its reviews, hand-off and every victim's part ended (a letter
        held for a victim until a month's day keeps the workflow until it goes)."""
        assert self.state is not None
        ongoing = self._running_reviews() or self.state.open_handoff
        return self.state.closed and not ongoing and self._victims_closed()

    def _next_wake(self) -> date | None:
        """The one wake-up date: the earliest thing due on the case or any victim's path."""
        candidates = [
            self._case_next_wake(),
            *self._reviews_next_wake(),
            self._handoff_next_wake(),
            *self._victims_next_wake(),
        ]
        return min((d for d in candidates if d is not None), default=None)

    def _case_next_wake(self) -> date | None:
        assert self.state is not None
        if self.state.closed:
            return None
        if self.state.hospital is not None:
            # A patient is neither released nor at the end of licence by the prison's dates:
            # discharge, remission and the end of the order are recorded by the VLO.
            return self.tasks.next_escalation()
        m = self.state.milestones
        candidates = [m.scheme_end(), self.tasks.next_escalation()]
        if m.release_date is None and CONFIRM_RELEASE_TASK not in {t.key for t in self.state.tasks}:
            candidates.append(m.conditional_release_date)
        preparation = self._parole_preparation_ahead()
        if preparation is not None:
            candidates.append(preparation[0])
        return min((d for d in candidates if d is not None), default=None)

    async def _on_case_time_passing(self) -> None:
        assert self.state is not None
        m, now = self.state.milestones, today()
        await self.tasks.escalate_overdue()
        if self.state.hospital is not None:
            return  # see _next_wake: nothing on a hospital path follows the sentence dates
        preparation = self._parole_preparation_ahead()
        if preparation is not None and now >= preparation[0]:
            await self._open_parole_preparation(preparation[1])
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

    async def _close(
        self, ended_by: KeyStage | None = None, on: date | None = None, by: str = ENGINE_ACTOR
    ) -> None:
        """The scheme ends when licence and supervision end, or with the key stage that ends
        the case (the offender's death): tell every victim, then close."""
        assert self.state is not None
        if ended_by is None:
            await self._broadcast("ended")
        else:
            await self._broadcast("ended", key_stage=ended_by, on=on)
        await self.tasks.close_all(ENGINE_ACTOR, "case closed")
        await self._end_parole_reviews(
            f"case closed ({ended_by.value})" if ended_by else "case closed"
        )
        await step(
            CaseStoreActivities.close_case,
            CaseClosure(
                idempotency_key=f"{workflow.info().workflow_id}:closed",
                case_id=self.case_id,
                by=by,
                **({} if ended_by is None else {"reason": f"ended by {ended_by.value}"}),
            ),
            summary="close case",
        )
        self.state.closed = True

    async def _broadcast(self, kind: str, **fields: object) -> None:
        assert self.state is not None
        self.state.event_sequence += 1
        event = CaseEvent(
            kind=kind,
            sequence=self.state.event_sequence,
            milestones=self.state.milestones,
            **fields,
        )
        await self._tell_victims(event)

    def _open_state(self) -> CaseState:
        if self.state is None:
            raise rejected(f"case {self.params.case_ref} is still starting: try again")
        if self.state.closed:
            raise rejected(f"case {self.params.case_ref} is closed")
        return self.state

    async def _audit(self, action: str, by: str, detail: AuditDetail, note: str = "") -> None:
        assert self.state is not None
        await step(
            CaseStoreActivities.record_audit,
            AuditRecord(
                idempotency_key=f"{workflow.info().workflow_id}:{action}:{self.state.event_sequence}",
                case_id=self.case_id,
                actor=by,
                action=action,
                detail=detail,
                note=note,
            ),
            summary=action,
        )
