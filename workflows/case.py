"""One offender case: owns the sentence milestones and holds its victims (workflows/
case_victims.py), telling each what happens (milestones recalculated, conditions imposed,
release, key stages, the end). One wake-up timer: the earliest date anything on the case, or on
any victim's path, falls due."""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from models.audit import AuditDetail
    from models.ids import case_workflow_id as case_workflow_id  # re-exported
    from models.key_stages import (
        ENDS_THE_CASE,
        URGENT,
        case_stage,
        custody_of,
        key_stage_problem,
        release_problem,
    )
    from models.key_stages import record as note_key_stage
    from models.messages import (
        ActionResult,
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
    )
    from models.parole import parole_review_id
    from models.plausibility import condition_problems, release_date_problems
    from models.policy import Policy
    from models.sharing import RecordDhrDirection
    from models.vocabulary import KeyStage, TaskKind

from workflows.case_handoffs import CaseHandoffs
from workflows.case_parole import CaseParole
from workflows.case_reviews import CaseReviews
from workflows.case_victims import CaseVictims
from workflows.common import ENGINE_ACTOR, next_note, rejected, today
from workflows.hospital import HospitalCase
from workflows.skeleton import Skeleton
from workflows.steps import call, step, unit_of_work
from workflows.tasks import TaskBook

CONFIRM_RELEASE_TASK = "confirm-release"


@workflow.defn(name="VictimContactCase")
class CaseWorkflow(Skeleton, CaseParole, CaseReviews, CaseHandoffs, CaseVictims, HospitalCase):
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

    # ---- VLO actions ---------------------------------------------------------------------

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

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        """A task of the case, of one of its Parole Board reviews (workflows/review_path.py),
        of its hand-off (workflows/handoff_path.py) or of one of its victims."""
        async with self._vlo_action():
            review = self._task_review(action.task_id) or self._task_handoff(action.task_id)
            if review is not None:
                review.check_complete_task(action)
                return await review.complete_task(action)
            victim = self._task_victim(action)
            if victim is not None:
                return await victim.complete_task(action)
            self._check_complete_task(action)
            task = await self.tasks.complete(action, f"case {self.params.case_ref}")
            follows = (
                "record the release itself next: that tells the victims"
                if task.key == CONFIRM_RELEASE_TASK
                else next_note(self.view().scheduled)
            )
            return ActionResult(
                message=f"task {action.task_id} completed (case {self.params.case_ref}); {follows}"
            )

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        handoff = self._task_handoff(action.task_id)
        if handoff is not None:  # it goes on after its case closes (workflows/case_handoffs.py)
            handoff.check_complete_task(action)
            return
        self._open_state()
        review = self._task_review(action.task_id)
        victim = self._task_victim(action)
        if review is not None:
            review.check_complete_task(action)
        elif victim is not None:
            victim.check_complete_task(action)
        else:
            self.tasks.open_task_of(action.task_id, f"case {self.params.case_ref}")

    # ---- domestic homicide reviews (DVCVA 2004 s 9) ------------------------------------------

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

    # ---- queries ---------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        state = self._open_state() if self.state is None else self.state
        m = state.milestones
        scheduled = [
            Scheduled(on=t.due_on, what=f"task {t.task_id} {t.kind.value} due") for t in state.tasks
        ]
        if m.release_date is None and m.conditional_release_date and state.hospital is None:
            scheduled.append(
                Scheduled(on=m.conditional_release_date, what="conditional release date")
            )
        end = m.scheme_end()
        if end and state.hospital is None:
            scheduled.append(Scheduled(on=end, what="scheme ends (licence and supervision end)"))
        if state.next_parole_review_on and state.open_parole_review is None:
            scheduled.append(Scheduled(on=state.next_parole_review_on, what="next parole review"))
        preparation = self._parole_preparation_ahead()
        if preparation is not None and state.open_parole_review is None:
            scheduled.append(
                Scheduled(
                    on=preparation[0],
                    what="task opens: prepare victims for the Parole Board review (due "
                    f"{preparation[1]}; parole eligibility date {m.parole_eligibility_date})",
                )
            )
        return CaseView(
            case_ref=self.params.case_ref,
            milestones=m,
            victim_ids=list(state.victim_ids),
            open_tasks=list(state.tasks),
            scheduled=sorted(scheduled, key=lambda s: s.on),
            closed=state.closed,
            responsible_vlo=self.responsible_vlo,
            provider=self.params.provider,
            region=self.params.region,
            open_handoff=state.open_handoff,
            hospital=state.hospital,
            custody="closed" if state.closed else custody_of(state).value,
            key_stages=list(state.key_stages),
            open_parole_review=state.open_parole_review,
            latest_parole_review=(
                parole_review_id(self.params.case_ref, state.parole_reviews)
                if state.parole_reviews
                else None
            ),
        )
