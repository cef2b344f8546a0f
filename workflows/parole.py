"""One Parole Board review of a case (ID vcs-parole-<case ref>-<n>), a child of the case.

referral -> every victim in the scheme invited to make a Victim Personal Statement and
representations on licence conditions by the Board's deadline (a letter, and a VLO task due
then) -> each VPS received is sent to the Board, marked late when it is -> a victim may apply
to read their VPS at an oral hearing; the Board's decision on that is recorded -> hearing ->
decision (release, no release, open conditions) -> every victim in the scheme told the outcome,
and given a summary of the Board's reasons on request -> the case is told the outcome.

A deadline passing without a VPS closes that victim's task and the review goes on. An
adjournment moves the hearing (and the deadline, if the Board sets a new one) and every timer
with it; what was received stays with the Board. No decision recorded 14 days after the hearing
opens a VLO task.

Sources: domain.md 'Parole'; 000_5a1d5e000983110f.txt ('Victims'). The VPS's words stay in the
case database, encrypted (models/sealed.py): this workflow carries its ID only.
"""

import contextlib
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.letters import LetterActivities
    from activities.parole import ParoleActivities
    from models.audit import AuditDetail, Ref
    from models.delivery import LetterUndelivered
    from models.handoff import ResponsibilityChange
    from models.messages import (
        ActionResult,
        AuditRecord,
        CompleteTask,
        ForwardRepresentations,
        LetterRequest,
        OpenTask,
        TaskOwner,
    )
    from models.parole import (
        PAROLE_BOARD,
        AdjournHearing,
        ForwardVps,
        ParoleDecided,
        ParoleDecisionRecord,
        ParoleInput,
        ParolePolicy,
        ParoleState,
        ParoleVictimAction,
        ParoleView,
        ReadApplication,
        RecordParoleDecision,
        RecordReadDecision,
        SetHearing,
        SubmitParoleRepresentations,
        SubmitVps,
        VpsReceived,
        hearing_problems,
        vps_lateness,
    )
    from models.policy import Policy
    from models.vocabulary import LetterKind, ParoleOutcome, TaskKind
    from models.working_days import add_working_days

from workflows.common import (
    ENGINE_ACTOR,
    call,
    rejected,
    today,
)
from workflows.skeleton import Skeleton
from workflows.tasks import TaskBook

OUTCOME_LETTER = {
    ParoleOutcome.RELEASE: LetterKind.PAROLE_RELEASE,
    ParoleOutcome.NO_RELEASE: LetterKind.PAROLE_NO_RELEASE,
    ParoleOutcome.OPEN_CONDITIONS: LetterKind.PAROLE_OPEN_CONDITIONS,
}
SOURCE_VPS = "000_5a1d5e000983110f.txt"
REVIEW_RUN_SPAN = timedelta(days=365)


@workflow.defn(name="ParoleReview")
class ParoleReviewWorkflow(Skeleton):
    @workflow.init
    def __init__(self, params: ParoleInput) -> None:
        self.params = params
        self.state = params.state or ParoleState(timetable=params.timetable)
        self.referred = params.state is not None
        self._start_skeleton()
        self.owner = TaskOwner(
            workflow_id=workflow.info().workflow_id,
            case_id=params.case_id,
            responsible_vlo=params.responsible_vlo,
        )
        self.tasks = TaskBook(self.state.tasks, self.owner, params.policy)

    # ---- main loop -----------------------------------------------------------------------

    @workflow.run
    async def run(self, params: ParoleInput) -> str:
        run_started = workflow.now()
        if not self.referred:
            async with self.lock:
                await self._refer()
                self.referred = True
        # A review keeps a yearly run: it lasts months, and a year bounds the history of one
        # adjourned again and again (workflows/skeleton.py).
        await self._run_loop(run_started, REVIEW_RUN_SPAN)
        decision = self.state.decision
        return decision.outcome.value if decision else "ended"

    def _finished(self) -> bool:
        return self.state.finished

    def _ready(self) -> bool:
        """Actions wait for the referral's letters and tasks."""
        return self.referred

    def _policy(self) -> Policy:
        return self.params.policy

    def _next_run(self, policy: Policy) -> ParoleInput:
        return self.params.model_copy(update={"state": self.state, "policy": policy})

    def _id(self) -> str:
        return workflow.info().workflow_id

    def _publish(self) -> None:
        """Search attributes and 'current details' for ops (IDs, stages and dates only)."""
        s = self.state
        self.search.publish(
            who=f"Parole review {self._id()} of case {self.params.case_ref}",
            case_ref=self.params.case_ref,
            stage=self._stage(),
            provider=self.params.provider,
            region=self.params.region,
            due_dates=[t.due_on for t in s.tasks],
            upcoming=self._scheduled(),
            extra=f"{len(s.statements)} VPS received; {len(s.tasks)} open VLO task(s)",
        )

    def _stage(self) -> str:
        s = self.state
        if s.decision is not None:
            return "parole_decided"
        if s.timetable.hearing_on is not None:
            return "parole_hearing_listed"
        return "parole_referred"

    def _scheduled(self) -> list[tuple[date, str]]:
        s, t = self.state, self.state.timetable
        items = [(task.due_on, f"task {task.task_id} {task.kind.value} due") for task in s.tasks]
        if s.decision is None:
            if not s.deadline_passed:
                items.append((t.vps_due_on, "VPS and representations deadline"))
            if t.hearing_on is not None:
                items.append((t.hearing_on, "Parole Board hearing"))
                if not s.decision_chased:
                    items.append((self._decision_expected(t.hearing_on), "decision expected by"))
        else:
            items.append((self._summaries_close(s.decision), "review ends (summary requests)"))
        return sorted(items)

    def _decision_expected(self, hearing_on: date) -> date:
        # domain.md 'Parole': the decision is usually issued within 14 days of the hearing.
        return hearing_on + timedelta(days=self.params.parole.decision_expected_days)

    def _summaries_close(self, decision: ParoleDecisionRecord) -> date:
        return decision.decided_on + timedelta(days=self.params.parole.summary_requests_open_days)

    def _next_wake(self) -> date | None:
        s, t = self.state, self.state.timetable
        candidates = [self.tasks.next_escalation()]
        if s.decision is None:
            if not s.deadline_passed:
                candidates.append(t.vps_due_on + timedelta(days=1))  # the day after it falls due
            if t.hearing_on is not None and not s.decision_chased:
                candidates.append(self._decision_expected(t.hearing_on))
        else:
            candidates.append(self._summaries_close(s.decision))
        return min((d for d in candidates if d is not None), default=None)

    async def _on_time_passing(self) -> None:
        s, t, now = self.state, self.state.timetable, today()
        if s.finished:
            return  # the case closed it (case_closed)
        if s.decision is None and not s.deadline_passed and now > t.vps_due_on:
            await self._deadline_passed()
        if (
            s.decision is None
            and t.hearing_on is not None
            and not s.decision_chased
            and now >= self._decision_expected(t.hearing_on)
        ):
            # domain.md 'Parole': the VLO passes the decision on; none recorded by the time it
            # is usually issued, so the VLO asks the Board (a task, escalated if left).
            s.decision_chased = True
            await self.tasks.open(
                f"decision-overdue-{s.adjournments}",
                TaskKind.PAROLE_DECISION_OVERDUE,
                f"No Parole Board decision recorded {self.params.parole.decision_expected_days} "
                f"days after the hearing on {t.hearing_on}: ask the Board, record it",
                add_working_days(
                    now,
                    self.params.parole.chase_decision_working_days,
                    self.params.policy.bank_holidays,
                ),
            )
        await self.tasks.escalate_overdue()
        if s.decision is not None and now >= self._summaries_close(s.decision) and not s.tasks:
            s.finished = True

    # ---- steps ---------------------------------------------------------------------------

    async def _refer(self) -> None:
        """Victims in the scheme are told of the review and offered a VPS (domain.md 'Parole';
        000_5a1d5e000983110f.txt): each gets a letter and a VLO task due at the deadline."""
        t = self.state.timetable
        invited = await call(
            ParoleActivities.victims_in_scheme, self.params.case_id, summary="victims in scheme"
        )
        for victim_id in invited:
            await self._invite(victim_id, "")
            self.state.invited.append(victim_id)
        await self._audit(
            "parole_referred",
            self.params.referred_by,
            AuditDetail.of(
                referred_on=t.referred_on,
                vps_due_on=t.vps_due_on,
                hearing_on=t.hearing_on,  # left out while not yet listed
                invited=invited,
            ),
        )

    async def _invite(self, victim_id: int, round_key: str) -> None:
        t = self.state.timetable
        await self._letter(
            victim_id,
            LetterKind.PAROLE_INVITATION,
            f"invite-{victim_id}{round_key}",
            due_on=t.vps_due_on,
        )
        await self._book(victim_id).open(
            f"vps-{victim_id}{round_key}",
            TaskKind.PAROLE_VPS,
            f"Victim {victim_id}: Parole Board review: discuss a Victim Personal Statement and "
            "licence-condition representations; record them (submit-vps, "
            "parole-representations)",
            t.vps_due_on,
        )

    async def _deadline_passed(self) -> None:
        """A deadline passing without a VPS does not stall the review: the victim's task closes
        and the review goes on (a later VPS is still sent, marked late: ParolePolicy)."""
        s = self.state
        s.deadline_passed = True
        missing = [v for v in s.invited if v not in self._with_vps()]
        for victim_id in missing:
            task = self._vps_task(victim_id)
            if task is not None:
                await self.tasks.close(task.key, ENGINE_ACTOR, "no VPS by deadline")
        await self._audit(
            f"vps_deadline_passed:{s.adjournments}",
            ENGINE_ACTOR,
            AuditDetail.of(
                vps_due_on=s.timetable.vps_due_on, received=len(s.statements), missing=missing
            ),
            action="vps_deadline_passed",
        )

    def _with_vps(self) -> set[int]:
        return {v.victim_id for v in self.state.statements}

    def _vps_task(self, victim_id: int) -> OpenTask | None:
        return next(
            (
                t
                for t in self.state.tasks
                if t.kind is TaskKind.PAROLE_VPS
                and (t.key == f"vps-{victim_id}" or t.key.startswith(f"vps-{victim_id}-"))
            ),
            None,
        )

    def _book(self, victim_id: int) -> TaskBook:
        """The review's task book, with tasks filed under one victim (the same list)."""
        owner = self.owner.model_copy(update={"victim_id": victim_id})
        return TaskBook(self.state.tasks, owner, self.params.policy)

    async def _close_kind(self, kind: TaskKind, outcome: str, by: str) -> None:
        for task in [t for t in self.state.tasks if t.kind is kind]:
            await self.tasks.close(task.key, by, outcome)

    async def _in_scheme(self, victim_id: int) -> None:
        """Only victims in the scheme make a VPS (000_5a1d5e000983110f.txt), whether opted in
        before the referral or since: checked against the stage recorded now."""
        in_scheme = await call(
            ParoleActivities.victims_in_scheme, self.params.case_id, summary="victims in scheme"
        )
        if victim_id not in in_scheme:
            raise rejected(
                f"victim {victim_id} is not in the Victim Contact Scheme on case "
                f"{self.params.case_ref} (not opted in): only victims in the scheme make a VPS "
                f"or representations to the Parole Board ({SOURCE_VPS})"
            )

    async def _audit(
        self, key: str, by: str, detail: AuditDetail, action: str | None = None, note: str = ""
    ) -> None:
        await call(
            CaseStoreActivities.record_audit,
            AuditRecord(
                idempotency_key=f"{self._id()}:{key}",
                case_id=self.params.case_id,
                actor=by,
                action=action or key.split(":")[0],
                detail=AuditDetail.of(review=Ref(self._id())).plus(**detail.facts),
                note=note,
            ),
            summary=action or key.split(":")[0],
        )

    async def _letter(self, victim_id: int, kind: LetterKind, key: str, **fields: object) -> None:
        try:
            await call(
                LetterActivities.send_letter,
                LetterRequest(
                    idempotency_key=f"{self._id()}:letter:{key}",
                    case_id=self.params.case_id,
                    victim_id=victim_id,
                    kind=kind,
                    **fields,
                ),
                summary=f"letter {kind.value}",
            )
        except ActivityError as err:
            cause = err.cause
            if not (isinstance(cause, ApplicationError) and cause.type == "NotifyRejected"):
                raise
            # As for every letter (workflows/victim_timeline.py): the review goes on.
            await self._book(victim_id).undelivered(kind, key)

    @workflow.signal
    async def letter_undelivered(self, notice: LetterUndelivered) -> None:
        """The delivery-status job found one of the review's emails or texts failed
        (workflows/delivery.py)."""
        async with self._vlo_action():
            await self._book(notice.victim_id).undelivered(notice.kind, notice.key)

    # ---- messages from the case -------------------------------------------------------------

    @workflow.signal
    async def responsibility_changed(self, change: ResponsibilityChange) -> None:
        """A provider hand-off of the case was accepted (workflows/handoff.py): the review's
        open tasks move to the new VLO with their due dates; nothing else changes (domain.md
        'Providers and hand-offs': a hand-off never drops an open deadline)."""
        async with self._vlo_action():
            receiver = change.receiver
            self.params.responsible_vlo = receiver.vlo
            self.params.provider, self.params.region = receiver.provider.value, receiver.region
            await self.tasks.hand_over(change)

    @workflow.signal
    async def case_closed(self, reason: str) -> None:
        """The case closed (licence end, death, absolute discharge: workflows/case.py _close),
        or the offender was released while the review was open: the review ends. Its open
        tasks close with the reason; no letter goes (the case tells every victim of the end of
        the scheme, or of the release)."""
        async with self._vlo_action():
            s = self.state
            if s.finished:
                return
            await self.tasks.close_all(ENGINE_ACTOR, reason)
            s.finished = True
            await self._audit(
                "parole_review_ended",
                ENGINE_ACTOR,
                AuditDetail(),
                note=reason,
            )

    @workflow.signal
    async def victim_left(self, victim_id: int) -> None:
        """The victim opted out of the scheme while the review runs: no longer invited (an
        adjournment re-invites nobody who left), and their review tasks close."""
        async with self._vlo_action():
            s = self.state
            if s.finished or victim_id not in s.invited:
                return
            s.invited.remove(victim_id)
            for key in [t.key for t in s.tasks if _of_victim(t.key, victim_id)]:
                await self.tasks.close(key, ENGINE_ACTOR, "victim opted out of the scheme")

    # ---- VLO actions ---------------------------------------------------------------------

    def _undecided(self) -> None:
        s = self.state
        if s.finished:
            raise rejected(f"parole review {self._id()} has ended")
        if s.decision is not None:
            raise rejected(
                f"parole review {self._id()} was decided on {s.decision.decided_on} "
                f"({s.decision.outcome.value})"
            )

    @workflow.update
    async def submit_vps(self, action: SubmitVps) -> ActionResult:
        async with self._vlo_action():
            self._check_vps(action)
            await self._in_scheme(action.victim_id)
            s, t, now = self.state, self.state.timetable, today()
            late = vps_lateness(now, t.vps_due_on, t.hearing_on, self.params.parole)
            await call(
                ParoleActivities.forward_vps,
                ForwardVps(
                    idempotency_key=f"{self._id()}:vps-forwarded:{action.vps_id}",
                    case_id=self.params.case_id,
                    review_id=self._id(),
                    victim_id=action.victim_id,
                    vps_id=action.vps_id,
                    late_reason=late,
                    by=action.by,
                ),
                summary="forward VPS",
            )
            s.statements.append(
                VpsReceived(
                    victim_id=action.victim_id,
                    vps_id=action.vps_id,
                    received_on=now,
                    late_reason=late,
                )
            )
            if action.victim_id not in s.invited:
                s.invited.append(action.victim_id)  # opted in since the referral
            kind = LetterKind.VPS_RECEIVED_LATE if late else LetterKind.VPS_RECEIVED
            await self._letter(action.victim_id, kind, f"vps-received-{action.vps_id}")
            task = self._vps_task(action.victim_id)
            if task is not None:
                await self.tasks.close(task.key, action.by, "VPS received and sent to the Board")
            marked = ""
            if late:
                marked = f", marked LATE ({late}): the panel decides whether to consider it"
            return ActionResult(
                message=f"VPS {action.vps_id} of victim {action.victim_id} sent to the "
                f"{PAROLE_BOARD}{marked}"
            )

    @submit_vps.validator
    def _check_vps(self, action: SubmitVps) -> None:
        self._undecided()
        if not action.checked_no_release_view:
            raise rejected(
                "a VPS must not say whether the prisoner should be released (domain.md "
                "'Parole'): read it, and confirm it does not, before it is sent"
            )
        for got in self.state.statements:
            if got.vps_id == action.vps_id:
                raise rejected(f"VPS {action.vps_id} was already received")
            if got.victim_id == action.victim_id:
                raise rejected(
                    f"victim {action.victim_id}'s VPS for this review was already received on "
                    f"{got.received_on} (VPS {got.vps_id})"
                )

    @workflow.update
    async def submit_representations(self, action: SubmitParoleRepresentations) -> ActionResult:
        """Representations on licence conditions in a parole case go to the Parole Board, which
        sets the conditions of a release it directs (DVCVA s 35(4)-(5): to whoever decides)."""
        async with self._vlo_action():
            self._check_representations(action)
            await self._in_scheme(action.victim_id)
            await call(
                CaseStoreActivities.forward_representations,
                ForwardRepresentations(
                    idempotency_key=f"{self._id()}:forward:{action.representation_id}",
                    case_id=self.params.case_id,
                    victim_id=action.victim_id,
                    representation_id=action.representation_id,
                    decided_by=PAROLE_BOARD,
                    by=action.by,
                ),
                summary="forward representations",
            )
            self.state.representation_ids.append(action.representation_id)
            if action.victim_id not in self.state.invited:
                self.state.invited.append(action.victim_id)
            await self._letter(
                action.victim_id,
                LetterKind.REPRESENTATIONS_RECEIVED,
                f"representations-{action.representation_id}",
            )
            return ActionResult(message=f"representations forwarded to the {PAROLE_BOARD}")

    @submit_representations.validator
    def _check_representations(self, action: SubmitParoleRepresentations) -> None:
        self._undecided()
        if action.representation_id in self.state.representation_ids:
            raise rejected(f"representation {action.representation_id} was already submitted")

    @workflow.update
    async def apply_to_read(self, action: ParoleVictimAction) -> ActionResult:
        """A victim may apply to read their VPS at an oral hearing; the Board decides (it is
        not a legal right): 000_5a1d5e000983110f.txt; domain.md 'Parole'."""
        async with self._vlo_action():
            self._check_apply_to_read(action)
            s, t, now = self.state, self.state.timetable, today()
            s.read_applications.append(ReadApplication(victim_id=action.victim_id, applied_on=now))
            due = add_working_days(
                now,
                self.params.parole.chase_decision_working_days,
                self.params.policy.bank_holidays,
            )
            if t.hearing_on is not None:
                due = max(min(due, t.hearing_on - timedelta(days=1)), now)
            await self._audit(
                f"vps_read_applied:{action.victim_id}",
                action.by,
                AuditDetail.of(victim=action.victim_id),
            )
            task = await self._book(action.victim_id).open(
                f"read-{action.victim_id}",
                TaskKind.PAROLE_READ_APPLICATION,
                f"Victim {action.victim_id} applies to read their VPS at the oral hearing: send "
                "the application to the Parole Board; record its decision (read-decision)",
                due,
            )
            return ActionResult(
                message=f"victim {action.victim_id}'s application to read their VPS recorded "
                f"(task {task.task_id} due {due}): the Parole Board decides; it is not a right"
            )

    @apply_to_read.validator
    def _check_apply_to_read(self, action: ParoleVictimAction) -> None:
        self._undecided()
        t = self.state.timetable
        if t.hearing_on is not None and not t.oral_hearing:
            raise rejected(
                f"the Parole Board is deciding review {self._id()} on the papers: a VPS is read "
                f"aloud only at an oral hearing ({SOURCE_VPS})"
            )
        if t.hearing_on is not None and t.hearing_on < today():
            raise rejected(f"the hearing on {t.hearing_on} has passed")
        if action.victim_id not in self._with_vps():
            raise rejected(
                f"victim {action.victim_id} has no VPS on this review: a victim applies to read "
                "their own statement (submit-vps first)"
            )
        for application in self.state.read_applications:
            if application.victim_id == action.victim_id:
                raise rejected(
                    f"victim {action.victim_id} already applied to read their VPS on "
                    f"{application.applied_on}"
                )

    @workflow.update
    async def record_read_decision(self, action: RecordReadDecision) -> ActionResult:
        async with self._vlo_action():
            self._check_read_decision(action)
            application = self._pending_application(action.victim_id)
            assert application is not None
            application.granted = action.granted
            verdict = "granted" if action.granted else "refused"
            await self._audit(
                f"vps_read_decided:{action.victim_id}",
                action.by,
                AuditDetail.of(victim=action.victim_id, granted=action.granted),
            )
            kind = LetterKind.READ_VPS_GRANTED if action.granted else LetterKind.READ_VPS_REFUSED
            await self._letter(action.victim_id, kind, f"read-decision-{action.victim_id}")
            await self.tasks.close(
                f"read-{action.victim_id}", action.by, f"Parole Board decision: {verdict}"
            )
            return ActionResult(
                message=f"victim {action.victim_id}'s application to read their VPS {verdict}; "
                "victim told"
            )

    @record_read_decision.validator
    def _check_read_decision(self, action: RecordReadDecision) -> None:
        self._undecided()
        if self._pending_application(action.victim_id) is None:
            raise rejected(
                f"victim {action.victim_id} has no application to read their VPS awaiting the "
                "Parole Board's decision"
            )

    def _pending_application(self, victim_id: int) -> ReadApplication | None:
        return next(
            (
                a
                for a in self.state.read_applications
                if a.victim_id == victim_id and a.granted is None
            ),
            None,
        )

    @workflow.update
    async def set_hearing(self, action: SetHearing) -> ActionResult:
        async with self._vlo_action():
            self._check_set_hearing(action)
            s = self.state
            s.timetable = s.timetable.model_copy(
                update={"hearing_on": action.hearing_on, "oral_hearing": action.oral_hearing}
            )
            kind = "oral hearing" if action.oral_hearing else "paper decision"
            await self._audit(
                "parole_hearing_set",
                action.by,
                AuditDetail.of(hearing_on=action.hearing_on, oral_hearing=action.oral_hearing),
            )
            latest = action.hearing_on - timedelta(days=self.params.parole.vps_days_before_hearing)
            return ActionResult(
                message=f"{kind} on {action.hearing_on} recorded; a VPS sent after {latest} "
                "is marked late"
            )

    @set_hearing.validator
    def _check_set_hearing(self, action: SetHearing) -> None:
        self._undecided()
        t = self.state.timetable
        if t.hearing_on is not None:
            raise rejected(
                f"review {self._id()} already has a hearing on {t.hearing_on}: adjourn it to "
                "change the date"
            )
        check_hearing_date(action.hearing_on, t.vps_due_on, self.params.parole)
        pending = [a.victim_id for a in self.state.read_applications if a.granted is None]
        if not action.oral_hearing and pending:
            raise rejected(
                f"victims {pending} applied to read their VPS at an oral hearing: record the "
                "Board's decision on those applications first (read-decision)"
            )

    @workflow.update
    async def adjourn(self, action: AdjournHearing) -> ActionResult:
        """An adjourned or deferred hearing moves every timer with it; nothing received is
        lost (the statements stay with the Board). A new deadline re-invites the victims who
        have not sent a VPS; a missed-decision task is closed and re-armed for the new date."""
        async with self._vlo_action():
            self._check_adjourn(action)
            s = self.state
            old = s.timetable
            s.adjournments += 1
            round_key = f"-a{s.adjournments}"
            new_due = action.vps_due_on or old.vps_due_on
            what = "hearing adjourned" if old.hearing_on is not None else "deferred"
            s.timetable = old.model_copy(
                update={"hearing_on": action.hearing_on, "vps_due_on": new_due}
            )
            await self._audit(
                f"parole_adjourned:{s.adjournments}",
                action.by,
                AuditDetail.of(
                    was_hearing_on=old.hearing_on,
                    hearing_on=action.hearing_on,
                    was_vps_due_on=old.vps_due_on,
                    vps_due_on=new_due,
                ),
                action="parole_adjourned",
            )
            if s.decision_chased:
                await self._close_kind(
                    TaskKind.PAROLE_DECISION_OVERDUE,
                    f"hearing adjourned to {action.hearing_on}",
                    action.by,
                )
                s.decision_chased = False
            reinvited = []
            if new_due != old.vps_due_on:
                s.deadline_passed = False
                for victim_id in [v for v in s.invited if v not in self._with_vps()]:
                    task = self._vps_task(victim_id)
                    if task is not None:
                        await self.tasks.reschedule(task.key, new_due, f"review {what}")
                        await self._letter(
                            victim_id,
                            LetterKind.PAROLE_INVITATION,
                            f"invite-{victim_id}{round_key}",
                            due_on=new_due,
                        )
                    else:
                        await self._invite(victim_id, round_key)
                    reinvited.append(victim_id)
            for application in s.read_applications if old.hearing_on is not None else []:
                if application.granted is not False:
                    await self._letter(
                        application.victim_id,
                        LetterKind.PAROLE_HEARING_ADJOURNED,
                        f"adjourned{round_key}-{application.victim_id}",
                    )
            kept = len(s.statements)
            again = f"; victims {reinvited} invited again by {new_due}" if reinvited else ""
            moved = (
                f"hearing adjourned from {old.hearing_on} to {action.hearing_on}"
                if old.hearing_on is not None
                else f"review deferred (no hearing listed): VPS deadline {old.vps_due_on} -> "
                f"{new_due}"
            )
            return ActionResult(message=f"{moved}; {kept} VPS kept with the Board{again}")

    @adjourn.validator
    def _check_adjourn(self, action: AdjournHearing) -> None:
        self._undecided()
        t = self.state.timetable
        if action.vps_due_on is not None and action.vps_due_on < today():
            raise rejected(f"the new VPS deadline {action.vps_due_on} is in the past")
        if t.hearing_on is None:
            # The Board may defer a review before listing its hearing (domain.md 'Parole'):
            # only the deadline moves, and every timer with it.
            if action.hearing_on is not None:
                raise rejected(
                    f"review {self._id()} has no hearing listed: record it with set-hearing; "
                    "to defer the review before then, give only the new VPS deadline"
                )
            if action.vps_due_on is None or action.vps_due_on == t.vps_due_on:
                raise rejected(
                    f"review {self._id()} has no hearing listed: deferring it needs a new VPS "
                    f"deadline (not {t.vps_due_on})"
                )
            return
        if action.hearing_on is None:
            raise rejected(
                f"review {self._id()} has a hearing on {t.hearing_on}: give the new hearing date"
            )
        if action.hearing_on <= t.hearing_on:
            raise rejected(
                f"an adjournment moves the hearing later: {action.hearing_on} is not after "
                f"{t.hearing_on}"
            )
        check_hearing_date(action.hearing_on, action.vps_due_on or t.vps_due_on, self.params.parole)

    @workflow.update
    async def record_decision(self, action: RecordParoleDecision) -> ActionResult:
        """domain.md 'Parole': the VLO passes the decision on to victims in the scheme; if
        release is refused, they are told when the next review is."""
        async with self._vlo_action():
            self._check_decision(action)
            s = self.state
            s.decision = ParoleDecisionRecord(
                outcome=action.outcome,
                decided_on=action.decided_on,
                next_review_on=action.next_review_on,
            )
            for kind in (
                TaskKind.PAROLE_DECISION_OVERDUE,
                TaskKind.PAROLE_VPS,
                TaskKind.PAROLE_READ_APPLICATION,
            ):
                outcome = f"decision recorded: {action.outcome.value}"
                await self._close_kind(kind, outcome, action.by)
            nxt = f"; next review {action.next_review_on}" if action.next_review_on else ""
            await self._audit(
                "parole_decision",
                action.by,
                AuditDetail.of(
                    outcome=action.outcome,
                    decided_on=action.decided_on,
                    next_review_on=action.next_review_on,
                ),
            )
            in_scheme = await call(
                ParoleActivities.victims_in_scheme, self.params.case_id, summary="victims in scheme"
            )
            for victim_id in in_scheme:
                await self._letter(
                    victim_id,
                    OUTCOME_LETTER[action.outcome],
                    f"outcome-{victim_id}",
                    next_review_on=action.next_review_on,
                )
                s.told.append(victim_id)
            with contextlib.suppress(Exception):  # the case has closed: nothing more to record
                await workflow.get_external_workflow_handle(self.params.case_workflow_id).signal(
                    "parole_outcome",
                    ParoleDecided(
                        review_id=self._id(),
                        outcome=action.outcome,
                        decided_on=action.decided_on,
                        next_review_on=action.next_review_on,
                    ),
                )
            return ActionResult(
                message=f"decision {action.outcome.value} of {action.decided_on} recorded; "
                f"{len(in_scheme)} victim(s) in the scheme told{nxt}"
            )

    @record_decision.validator
    def _check_decision(self, action: RecordParoleDecision) -> None:
        self._undecided()
        t = self.state.timetable
        if t.hearing_on is None:
            raise rejected(
                f"review {self._id()} has no hearing date: record it (set-hearing) before the "
                "decision"
            )
        if t.hearing_on > today():
            raise rejected(
                f"the hearing is on {t.hearing_on}: a decision cannot be recorded before it"
            )
        if action.decided_on < t.hearing_on:
            raise rejected(
                f"decision date {action.decided_on} is before the hearing on {t.hearing_on}"
            )
        if action.decided_on > today():
            raise rejected(f"decision date {action.decided_on} is in the future")
        if action.next_review_on is not None:
            if action.outcome is not ParoleOutcome.NO_RELEASE:
                raise rejected("a next review date goes with a decision not to release")
            if action.next_review_on <= action.decided_on:
                raise rejected(
                    f"the next review {action.next_review_on} is not after the decision "
                    f"{action.decided_on}"
                )

    @workflow.update
    async def request_summary(self, action: ParoleVictimAction) -> ActionResult:
        """Victims may ask for a summary of the Board's reasons (domain.md 'Parole'): the VLO
        obtains it from the Board and sends it (a task); the victim is told it is on its way."""
        async with self._vlo_action():
            self._check_summary(action)
            self.state.summaries.append(action.victim_id)
            due = add_working_days(
                today(), self.params.parole.summary_working_days, self.params.policy.bank_holidays
            )
            await self._letter(
                action.victim_id, LetterKind.PAROLE_SUMMARY_REQUESTED, f"summary-{action.victim_id}"
            )
            task = await self._book(action.victim_id).open(
                f"summary-{action.victim_id}",
                TaskKind.PAROLE_SUMMARY,
                f"Victim {action.victim_id} asked for a summary of the Parole Board's reasons: "
                "obtain it from the Board and send it",
                due,
            )
            return ActionResult(
                message=f"victim {action.victim_id}'s request for the decision summary recorded: "
                f"task {task.task_id} due {due}"
            )

    @request_summary.validator
    def _check_summary(self, action: ParoleVictimAction) -> None:
        s = self.state
        if s.finished:
            raise rejected(f"parole review {self._id()} has ended")
        if s.decision is None:
            raise rejected(
                f"review {self._id()} has no decision yet: a summary of the Board's reasons "
                "follows its decision"
            )
        if action.victim_id not in s.told:
            raise rejected(
                f"victim {action.victim_id} was not told the outcome of review {self._id()} "
                "(not in the scheme when it was decided)"
            )
        if action.victim_id in s.summaries:
            raise rejected(f"victim {action.victim_id} has already asked for the summary")

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        async with self._vlo_action():
            self._check_complete_task(action)
            await self.tasks.complete(action, f"review {self._id()}")
            return ActionResult(
                message=f"task {action.task_id} completed (parole review {self._id()}); nothing "
                "else follows from it"
            )

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self.tasks.open_task_of(action.task_id, f"review {self._id()}")

    # ---- queries ----------------------------------------------------------------------------

    @workflow.query
    def view(self) -> ParoleView:
        s = self.state
        return ParoleView(
            review_id=self._id(),
            case_ref=self.params.case_ref,
            timetable=s.timetable,
            invited=list(s.invited),
            statements=list(s.statements),
            read_applications=list(s.read_applications),
            deadline_passed=s.deadline_passed,
            adjournments=s.adjournments,
            decision=s.decision,
            told=list(s.told),
            summaries=list(s.summaries),
            open_tasks=list(s.tasks),
            scheduled=self._scheduled(),
            finished=s.finished,
        )


def _of_victim(key: str, victim_id: int) -> bool:
    """A review task filed under this victim: their VPS (per round), reading it, a summary."""
    return any(
        key == f"{kind}-{victim_id}" or key.startswith(f"{kind}-{victim_id}-")
        for kind in ("vps", "read", "summary")
    )


def check_hearing_date(hearing_on: date, vps_due_on: date, policy: ParolePolicy) -> None:
    problems = hearing_problems(hearing_on, vps_due_on, today(), policy)
    if problems:
        raise rejected("; ".join(problems))
