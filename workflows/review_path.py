"""One Parole Board review of a case (ID vcs-parole-<case ref>-<n>): plain code, held by the
workflow that runs it, which takes each action under its lock, publishes, and wakes at the dates
`next_wake` gives (workflows/review_steps.py has the VLO's actions).

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
case database, encrypted (models/sealed.py): the review carries its ID only.
"""

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.letters import LetterActivities
    from activities.parole import ParoleActivities
    from models.activity_requests import AuditRecord, LetterRequest
    from models.audit import AuditDetail, Ref
    from models.delivery import LetterUndelivered
    from models.handoff import ResponsibilityChange
    from models.parole import (
        ParoleDecisionRecord,
        ParoleInput,
        ParolePolicy,
        ParoleState,
        ParoleView,
        hearing_problems,
    )
    from models.tasks import OpenTask, TaskOwner
    from models.vocabulary import LetterKind, TaskKind
    from models.working_days import add_working_days

from workflows.common import ENGINE_ACTOR, rejected, today
from workflows.steps import call, step
from workflows.tasks import TaskBook

SOURCE_VPS = "000_5a1d5e000983110f.txt"


class ReviewPath:
    def __init__(self, params: ParoleInput, review_id: str, owner_id: str, key_prefix: str) -> None:
        """`owner_id`: the workflow that holds the review (its tasks are completed there);
        `key_prefix`: what every step's idempotency key starts with (models/ids.py)."""
        self.params = params
        self.review_id = review_id
        self.key_prefix = key_prefix
        self.state = params.state or ParoleState(timetable=params.timetable)
        self.owner = TaskOwner(
            workflow_id=owner_id,
            case_id=params.case_id,
            responsible_vlo=params.responsible_vlo,
        )
        self.tasks = TaskBook(self.state.tasks, self.owner, params.policy, key_prefix=key_prefix)

    def stage(self) -> str:
        s = self.state
        if s.decision is not None:
            return "parole_decided"
        if s.timetable.hearing_on is not None:
            return "parole_hearing_listed"
        return "parole_referred"

    def scheduled(self) -> list[tuple[date, str]]:
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

    def next_wake(self) -> date | None:
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

    async def on_time_passing(self) -> None:
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

    async def refer(self) -> None:
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
            "licence-condition representations; record them when the victim gives them",
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
        return TaskBook(self.state.tasks, owner, self.params.policy, key_prefix=self.key_prefix)

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
        await step(
            CaseStoreActivities.record_audit,
            AuditRecord(
                idempotency_key=f"{self.key_prefix}:{key}",
                case_id=self.params.case_id,
                actor=by,
                action=action or key.split(":")[0],
                detail=AuditDetail.of(review=Ref(self.review_id)).plus(**detail.facts),
                note=note,
            ),
            summary=action or key.split(":")[0],
        )

    async def _letter(self, victim_id: int, kind: LetterKind, key: str, **fields: object) -> None:
        await step(
            LetterActivities.send_letter,
            LetterRequest(
                idempotency_key=f"{self.key_prefix}:letter:{key}",
                case_id=self.params.case_id,
                victim_id=victim_id,
                kind=kind,
                **fields,
            ),
            summary=f"letter {kind.value}",
            # As for every letter (workflows/victim_timeline.py): the review goes on.
            on_rejected=lambda: self._book(victim_id).undelivered(kind, key),
        )

    async def undelivered(self, notice: LetterUndelivered) -> None:
        """The delivery-status job found one of the review's emails or texts failed
        (workflows/delivery.py)."""
        await self._book(notice.victim_id).undelivered(notice.kind, notice.key)

    # ---- messages from the case -------------------------------------------------------------

    async def hand_over(self, change: ResponsibilityChange) -> None:
        """A provider hand-off of the case was accepted (workflows/handoff_path.py): the review's
        open tasks move to the new VLO with their due dates; nothing else changes (domain.md
        'Providers and hand-offs': a hand-off never drops an open deadline)."""
        receiver = change.receiver
        self.params.responsible_vlo = receiver.vlo
        self.params.provider, self.params.region = receiver.provider.value, receiver.region
        await self.tasks.hand_over(change)

    async def end(self, reason: str) -> None:
        """The case closed (licence end, death, absolute discharge: workflows/case.py _close),
        or the offender was released while the review was open: the review ends. Its open
        tasks close with the reason; no letter goes (the case tells every victim of the end of
        the scheme, or of the release)."""
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

    async def victim_left(self, victim_id: int) -> None:
        """The victim opted out of the scheme while the review runs: no longer invited (an
        adjournment re-invites nobody who left), and their review tasks close."""
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
            raise rejected(f"parole review {self.review_id} has ended")
        if s.decision is not None:
            raise rejected(
                f"parole review {self.review_id} was decided on {s.decision.decided_on} "
                f"({s.decision.outcome.value})"
            )

    def view(self) -> ParoleView:
        s = self.state
        return ParoleView(
            review_id=self.review_id,
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
            scheduled=self.scheduled(),
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
