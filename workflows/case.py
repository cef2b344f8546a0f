"""One offender case: owns the sentence milestones and holds its victims (workflows/
case_victims.py), telling each what happens (milestones recalculated, conditions imposed,
release, key stages, the end). One wake-up timer: the earliest date anything on the case, or on
any victim's path, falls due."""

import contextlib
from datetime import date

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.handoff import HandoffStarterActivities, HandoffStoreActivities
    from models.audit import AuditDetail, Ref
    from models.deadlines import parole_preparation
    from models.handoff import (
        HandoffOpened,
        HandoffPolicy,
        HandoffStart,
        HandoffWithdrawn,
        ReportCrcEvent,
        RequestHandoff,
        Responsibility,
        ResponsibilityChange,
    )
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
    from models.parole import (
        ParoleDecided,
        ParoleInput,
        ReferParole,
        parole_review_id,
        timetable_problems,
    )
    from models.plausibility import condition_problems, release_date_problems
    from models.policy import Policy
    from models.sharing import RecordDhrDirection
    from models.vocabulary import HandoffReason, KeyStage, Provider, TaskKind
    from models.working_days import add_working_days

from workflows.case_victims import CaseVictims
from workflows.common import (
    ENGINE_ACTOR,
    call,
    next_note,
    rejected,
    today,
)
from workflows.hospital import HospitalCase
from workflows.parole import ParoleReviewWorkflow
from workflows.skeleton import Skeleton
from workflows.tasks import TaskBook

CONFIRM_RELEASE_TASK = "confirm-release"
# A tariff / parole eligibility date nears: prepare the victims for the Parole Board review.
PAROLE_PREPARATION_TASK = "parole-preparation"


@workflow.defn(name="VictimContactCase")
class CaseWorkflow(Skeleton, CaseVictims, HospitalCase):
    @workflow.init
    def __init__(self, params: CaseInput) -> None:
        self.params = params
        self.state: CaseState | None = params.state
        self.case_id = params.case_id or 0
        self.responsible_vlo = params.responsible_vlo or ""
        self._start_skeleton()
        self._tasks: TaskBook | None = None
        self.victims = {}

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
                self._take_hospital_status(snapshot.hospital)  # DVCVA ss 36-44A, if any
                self._make_task_book()
                if snapshot.victim_ids:
                    await self._add_victims(snapshot.victim_ids)
                await self._ask_for_hospital()
            else:
                self._make_task_book()
                self._take_victims()
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
            due_dates=[t.due_on for t in self.state.tasks] + self._victim_due_dates(),
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
        """The case closed and every victim's part ended (letters held for a victim until a
        month's day, e.g. that the scheme has ended, keep the workflow until they go)."""
        assert self.state is not None
        return self.state.closed and self._victims_closed()

    def _next_wake(self) -> date | None:
        """The one wake-up date: the earliest thing due on the case or any victim's path."""
        candidates = [self._case_next_wake(), *self._victims_next_wake()]
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

    def _parole_preparation_ahead(self) -> tuple[date, date] | None:
        """When the task preparing victims for the Parole Board review opens and is due, while
        it is still to open: once in a case with a parole eligibility date (for a life or
        other indeterminate sentence, the tariff expiry) and not yet released."""
        assert self.state is not None
        state, m = self.state, self.state.milestones
        if (
            state.parole_preparation_done
            or state.closed
            or state.hospital is not None
            or m.release_date is not None
            or m.parole_eligibility_date is None
        ):
            return None
        return parole_preparation(m.parole_eligibility_date, self.params.policy)

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

    async def _open_parole_preparation(self, due: date) -> None:
        """A date brought so close that the task is already due opens it due today. A review
        referred by hand and open by then invites the victims itself: no task."""
        assert self.state is not None
        self.state.parole_preparation_done = True
        if self.state.open_parole_review is not None:
            return
        await self.tasks.open(
            PAROLE_PREPARATION_TASK,
            TaskKind.PAROLE_PREPARATION,
            # No date in the title: a recalculation re-dates the task, never its title.
            "Prepare victims in the scheme for the Parole Board review at the parole "
            "eligibility date: the review, the VPS, what happens next",
            max(due, today()),
        )

    async def _follow_parole_eligibility(self, by: str) -> None:
        """A recalculated parole eligibility date re-dates the open preparation task (one not
        yet opened follows by itself: _next_wake); a date taken away closes it."""
        assert self.state is not None
        if self.tasks.by_key(PAROLE_PREPARATION_TASK) is None:
            return
        eligible_on = self.state.milestones.parole_eligibility_date
        if eligible_on is None:
            await self.tasks.close(PAROLE_PREPARATION_TASK, by, "parole eligibility date removed")
            return
        _, due = parole_preparation(eligible_on, self.params.policy)
        await self.tasks.reschedule(
            PAROLE_PREPARATION_TASK,
            max(due, today()),
            f"parole eligibility date recalculated: {eligible_on}",
        )

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
        await call(
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

    async def _audit(self, action: str, by: str, detail: AuditDetail, note: str = "") -> None:
        assert self.state is not None
        await call(
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
            raise rejected("record a release with record-release, not as a milestone")

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
                "(record-discharge) or a remission to prison (record-remission)"
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
                "a Parole Board review is recorded by referring the case (refer-parole --case "
                "REF --vps-due DATE [--hearing DATE]): it records the key stage and invites "
                "the victims"
            )
        self._check_key_stage(action)

    def _check_key_stage(self, action: RecordKeyStage) -> None:
        state = self._open_state()
        if action.key_stage is KeyStage.TRANSFER_TO_HOSPITAL:
            # The transfer moves the case to the DVCVA s 42 path (workflows/hospital.py).
            raise rejected(
                "a transfer to hospital needs its transfer direction: give the hospital "
                "(record-key-stage --stage transfer_to_hospital --hospital ID, and "
                "--restriction-direction if MHA 1983 s 49 applies)"
            )
        problem = key_stage_problem(state, action.key_stage, action.on, today())
        if problem is not None:
            raise rejected(problem)

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        """A task of the case, or of one of its victims (workflows/victim_path.py)."""
        async with self._vlo_action():
            victim = self._task_victim(action)
            if victim is not None:
                return await victim.complete_task(action)
            self._check_complete_task(action)
            task = await self.tasks.complete(action, f"case {self.params.case_ref}")
            follows = (
                "the release itself is recorded with record-release, which tells victims"
                if task.key == CONFIRM_RELEASE_TASK
                else next_note(self.view().scheduled)
            )
            return ActionResult(
                message=f"task {action.task_id} completed (case {self.params.case_ref}); {follows}"
            )

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self._open_state()
        victim = self._task_victim(action)
        if victim is not None:
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

    # ---- provider hand-offs (workflows/handoff.py) -------------------------------------------

    def _responsibility(self) -> Responsibility:
        return Responsibility(
            provider=Provider(self.params.provider),
            region=self.params.region,
            vlo=self.responsible_vlo,
        )

    @workflow.update
    async def request_handoff(self, action: RequestHandoff) -> ActionResult:
        await workflow.wait_condition(lambda: self.state is not None)
        async with self._vlo_action():
            self._check_handoff(action)
            state = self._open_state()
            state.handoff_requests += 1
            sender = self._responsibility()
            receiver = Responsibility(
                provider=action.to_provider, region=action.to_region, vlo=action.to_vlo
            )
            start = HandoffStart(
                request_key=f"{workflow.info().workflow_id}:handoff:{state.handoff_requests}",
                case_ref=self.params.case_ref,
                case_id=self.case_id,
                reason=action.reason,
                sender=sender,
                receiver=receiver,
                requested_by=action.by,
            )
            handoff_id = await call(
                HandoffStoreActivities.register_handoff, start, summary="register hand-off"
            )
            await call(
                HandoffStarterActivities.start_handoff_workflow,
                start.registered(handoff_id),
                summary="start hand-off",
            )
            state.open_handoff = handoff_id
            return ActionResult(
                message=f"hand-off {handoff_id} requested: {sender.vlo} ({sender.provider.value}) "
                f"to supply the case information, then {receiver.vlo} "
                f"({receiver.provider.value}) to accept"
            )

    @request_handoff.validator
    def _check_handoff(self, action: RequestHandoff) -> None:
        state = self._open_state()
        ref = self.params.case_ref
        if state.open_handoff is not None:
            raise rejected(
                f"case {ref} already has hand-off {state.open_handoff} open: "
                "finish or withdraw it (handoff withdraw) before asking for another"
            )
        here = self._responsibility()
        there = (action.to_provider, action.to_region, action.to_vlo)
        if (here.provider, here.region, here.vlo) == there:
            raise rejected(f"case {ref} is already with {here.describe()}: nothing to hand off")
        crc_to_nps = (HandoffReason.RISK_ESCALATION, HandoffReason.UNIFICATION_2021)
        if action.reason in crc_to_nps and (
            here.provider is not Provider.CRC or action.to_provider is not Provider.NPS
        ):
            # 004_1f588538fba2148d.txt (risk rises: CRC -> NPS); 003_532a... (CRC cases to NPS).
            raise rejected(
                f"a {action.reason.value} hand-off moves a case from a CRC to the NPS; case "
                f"{ref} is with {here.provider.value} and would go to {action.to_provider.value}"
            )
        if action.reason is HandoffReason.YOUTH_TO_ADULT:
            # 000_5a1d5e000983110f.txt: the NPS decides whether a youth who turns 18 moves from
            # the YOT to adult probation (the NPS or a CRC) and arranges the transfer.
            if here.provider is not Provider.YOT:
                raise rejected(
                    f"a youth_to_adult hand-off is only from a Youth Offending Team; case {ref} "
                    f"is with {here.provider.value}"
                )
            if action.to_provider is Provider.YOT:
                raise rejected("a youth_to_adult hand-off goes to adult probation, not a YOT")
        if action.reason is HandoffReason.REGION_MOVE and action.to_region == here.region:
            raise rejected(
                f"a region_move hand-off needs a new region; case {ref} is already in it"
            )

    @workflow.signal
    def handoff_opened(self, opened: HandoffOpened) -> None:
        """A hand-off started (by a VLO here, or by a bulk transfer): no second one meanwhile."""
        if self.state is not None and self.state.open_handoff is None:
            self.state.open_handoff = opened.handoff_id

    @workflow.signal
    def handoff_withdrawn(self, withdrawn: HandoffWithdrawn) -> None:
        """The open hand-off was withdrawn (by a VLO, refused by the receiver, or failed):
        nothing switched, and the case may have another hand-off."""
        if self.state is not None and self.state.open_handoff == withdrawn.handoff_id:
            self.state.open_handoff = None

    @workflow.signal
    async def handoff_switched(self, change: ResponsibilityChange) -> None:
        """The receiving provider accepted: this case and every victim switch, and
        every open task moves to the new VLO with its due date (domain.md: nothing dropped)."""
        await workflow.wait_condition(lambda: self.state is not None)
        async with self._vlo_action():
            state = self.state
            assert state is not None
            receiver = change.receiver
            self.responsible_vlo = receiver.vlo
            self.params.provider, self.params.region = receiver.provider.value, receiver.region
            if state.open_handoff == change.handoff_id:
                state.open_handoff = None
            await self.tasks.hand_over(change)
            for path in self.victims.values():
                await path.hand_over(change)
            # Every parole review still running (open, or decided and taking summary
            # requests) moves its tasks too; an ended one has none.
            for review in self._parole_review_ids():
                with contextlib.suppress(Exception):
                    await workflow.get_external_workflow_handle(review).signal(
                        ParoleReviewWorkflow.responsibility_changed, change
                    )

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

    # ---- Parole Board reviews (workflows/parole.py) ------------------------------------------

    @workflow.update
    async def refer_parole(self, action: ReferParole) -> ActionResult:
        """The case is referred to the Parole Board (domain.md 'Parole'): a review starts as a
        child workflow that invites every victim in the scheme (their letter tells them of the
        review, so no key-stage letter besides). It outlives this run of the case, which
        continues as new yearly (ParentClosePolicy.ABANDON), and signals back its outcome."""
        async with self._vlo_action():
            self._check_refer_parole(action)
            state = self._open_state()
            number = state.parole_reviews + 1
            review_id = parole_review_id(self.params.case_ref, number)
            t = action.timetable
            try:
                await self._start_review(review_id, action)
            except WorkflowAlreadyStartedError:
                # A review of this ID ran before (its letters' keys carry the ID): never reuse it.
                raise rejected(
                    f"parole review {review_id} already exists: case {self.params.case_ref}'s "
                    "review count does not match the reviews started; ask support to check it"
                ) from None
            # Counted only once started: a failed start leaves nothing pointing at no review.
            state.parole_reviews = number
            state.open_parole_review = review_id
            note_key_stage(state, KeyStage.PAROLE_REVIEW, t.referred_on)
            # The review invites the victims itself: the preparation for it is over (one not
            # yet opened is not opened while the review is open: _open_parole_preparation).
            await self.tasks.close(
                PAROLE_PREPARATION_TASK, action.by, f"referred to the Parole Board: {review_id}"
            )
            hearing = f"hearing {t.hearing_on}" if t.hearing_on else "hearing not yet listed"
            return ActionResult(
                message=f"parole review {review_id} started: VPS and representations due "
                f"{t.vps_due_on}, {hearing}"
            )

    async def _start_review(self, review_id: str, action: ReferParole) -> None:
        await workflow.start_child_workflow(
            ParoleReviewWorkflow.run,
            ParoleInput(
                case_ref=self.params.case_ref,
                case_id=self.case_id,
                case_workflow_id=workflow.info().workflow_id,
                responsible_vlo=self.responsible_vlo,
                provider=self.params.provider,
                region=self.params.region,
                referred_by=action.by,
                policy=self.params.policy,
                timetable=action.timetable,
            ),
            id=review_id,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=f"Parole review {review_id}",
        )

    @refer_parole.validator
    def _check_refer_parole(self, action: ReferParole) -> None:
        state = self._open_state()
        if state.hospital is not None:
            # A hospital patient is discharged by the tribunal or the Secretary of State, not
            # released by the Parole Board (DVCVA ss 36-44A; workflows/hospital.py).
            raise rejected(
                f"case {self.params.case_ref} is on a hospital path: the Parole Board does not "
                "review a hospital patient; discharge is for the tribunal or the Secretary of "
                "State (record-discharge)"
            )
        if state.open_parole_review is not None:
            raise rejected(
                f"case {self.params.case_ref} already has parole review "
                f"{state.open_parole_review} open: record its decision first"
            )
        t = action.timetable
        problems = timetable_problems(t, today(), state.milestones.sentence_date)
        stage = key_stage_problem(state, KeyStage.PAROLE_REVIEW, t.referred_on, today())
        problems += [stage] if stage else []
        if problems:
            raise rejected("; ".join(problems))

    def _parole_review_ids(self) -> list[str]:
        """Every review the case started; those that ended ignore (fail) a signal."""
        assert self.state is not None
        return [
            parole_review_id(self.params.case_ref, n)
            for n in range(1, self.state.parole_reviews + 1)
        ]

    async def _end_parole_reviews(self, reason: str) -> None:
        """The case closing ends every review still running, open tasks closed with the
        reason; the victims hear of the end once, from the case (domain.md 'Parole')."""
        for review in self._parole_review_ids():
            with contextlib.suppress(Exception):  # that review has ended already
                await workflow.get_external_workflow_handle(review).signal(
                    ParoleReviewWorkflow.case_closed, reason
                )
        assert self.state is not None
        self.state.open_parole_review = None

    async def _victim_left(self, victim_id: int) -> None:
        """A victim left the scheme (opted out): an open Parole Board review no longer counts
        them as invited and closes their review tasks (domain.md 'Opt in or out': a victim who
        says no is not contacted again unless they come back)."""
        assert self.state is not None
        review = self.state.open_parole_review
        if review is not None:
            with contextlib.suppress(Exception):  # that review has ended already
                await workflow.get_external_workflow_handle(review).signal(
                    ParoleReviewWorkflow.victim_left, victim_id
                )

    async def _end_open_review_on_release(self) -> None:
        """A release (at the release date, say) while a Parole Board review is still open ends
        the review: no later decision can be recorded and told to victims who have had the
        release letter. Its tasks close; victims hear of the release only."""
        assert self.state is not None
        if self.state.open_parole_review is not None:
            await self._end_parole_reviews("released on licence: the review has ended")

    @workflow.signal
    async def parole_outcome(self, decided: ParoleDecided) -> None:
        """A review's decision (workflows/parole.py told the victims): recorded on the case. No
        release: the next review's date is kept and shown. Open conditions: the Board's
        recommendation only; the move itself is a key stage the VLO records when it happens."""
        await workflow.wait_condition(lambda: self.state is not None)
        async with self._vlo_action():
            state = self.state
            assert state is not None
            if any(review == decided.review_id for review, _, _ in state.parole_decisions):
                return
            state.parole_decisions.append(
                (decided.review_id, decided.outcome.value, decided.decided_on)
            )
            if state.open_parole_review == decided.review_id:
                state.open_parole_review = None
            state.next_parole_review_on = decided.next_review_on
            state.event_sequence += 1
            await self._audit(
                "parole_outcome",
                ENGINE_ACTOR,
                AuditDetail.of(
                    review=Ref(decided.review_id),
                    outcome=decided.outcome,
                    decided_on=decided.decided_on,
                    next_review_on=decided.next_review_on,
                ),
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
