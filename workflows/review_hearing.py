"""A Parole Board review's hearing and decision: set, adjourned (every timer moves with it),
decided (victims in the scheme told the outcome). Mixed into workflows/review_steps.py."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.parole import ParoleActivities
    from models.audit import AuditDetail
    from models.messages import ActionResult
    from models.parole import (
        AdjournHearing,
        ParoleDecided,
        ParoleDecisionRecord,
        RecordParoleDecision,
        SetHearing,
    )
    from models.vocabulary import LetterKind, ParoleOutcome, TaskKind

from workflows.common import rejected, today
from workflows.review_path import ReviewPath, check_hearing_date
from workflows.steps import call

OUTCOME_LETTER = {
    ParoleOutcome.RELEASE: LetterKind.PAROLE_RELEASE,
    ParoleOutcome.NO_RELEASE: LetterKind.PAROLE_NO_RELEASE,
    ParoleOutcome.OPEN_CONDITIONS: LetterKind.PAROLE_OPEN_CONDITIONS,
}


class ReviewHearing(ReviewPath):
    async def set_hearing(self, action: SetHearing) -> ActionResult:
        self.check_set_hearing(action)
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

    def check_set_hearing(self, action: SetHearing) -> None:
        self._undecided()
        t = self.state.timetable
        if t.hearing_on is not None:
            raise rejected(
                f"review {self.review_id} already has a hearing on {t.hearing_on}: adjourn it to "
                "change the date"
            )
        check_hearing_date(action.hearing_on, t.vps_due_on, self.params.parole)
        pending = [a.victim_id for a in self.state.read_applications if a.granted is None]
        if not action.oral_hearing and pending:
            raise rejected(
                f"victims {pending} applied to read their VPS at an oral hearing: record the "
                "Board's decision on those applications first"
            )

    async def adjourn(self, action: AdjournHearing) -> ActionResult:
        """An adjourned or deferred hearing moves every timer with it; nothing received is
        lost (the statements stay with the Board). A new deadline re-invites the victims who
        have not sent a VPS; a missed-decision task is closed and re-armed for the new date."""
        self.check_adjourn(action)
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
            else f"review deferred (no hearing listed): VPS deadline {old.vps_due_on} -> {new_due}"
        )
        return ActionResult(message=f"{moved}; {kept} VPS kept with the Board{again}")

    def check_adjourn(self, action: AdjournHearing) -> None:
        self._undecided()
        t = self.state.timetable
        if action.vps_due_on is not None and action.vps_due_on < today():
            raise rejected(f"the new VPS deadline {action.vps_due_on} is in the past")
        if t.hearing_on is None:
            # The Board may defer a review before listing its hearing (domain.md 'Parole'):
            # only the deadline moves, and every timer with it.
            if action.hearing_on is not None:
                raise rejected(
                    f"review {self.review_id} has no hearing listed: record the hearing first; "
                    "to defer the review before then, give only the new VPS deadline"
                )
            if action.vps_due_on is None or action.vps_due_on == t.vps_due_on:
                raise rejected(
                    f"review {self.review_id} has no hearing listed: deferring it needs a new VPS "
                    f"deadline (not {t.vps_due_on})"
                )
            return
        if action.hearing_on is None:
            raise rejected(
                f"review {self.review_id} has a hearing on {t.hearing_on}: give the new hearing "
                "date"
            )
        if action.hearing_on <= t.hearing_on:
            raise rejected(
                f"an adjournment moves the hearing later: {action.hearing_on} is not after "
                f"{t.hearing_on}"
            )
        check_hearing_date(action.hearing_on, action.vps_due_on or t.vps_due_on, self.params.parole)

    async def record_decision(self, action: RecordParoleDecision) -> ActionResult:
        """domain.md 'Parole': the VLO passes the decision on to victims in the scheme; if
        release is refused, they are told when the next review is."""
        self.check_decision(action)
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
        return ActionResult(
            message=f"decision {action.outcome.value} of {action.decided_on} recorded; "
            f"{len(in_scheme)} victim(s) in the scheme told{nxt}"
        )

    def check_decision(self, action: RecordParoleDecision) -> None:
        self._undecided()
        t = self.state.timetable
        if t.hearing_on is None:
            raise rejected(
                f"review {self.review_id} has no hearing date: record the hearing before the "
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

    def decided(self) -> ParoleDecided | None:
        """The decision, as the case records it (None while undecided)."""
        d = self.state.decision
        if d is None:
            return None
        return ParoleDecided(
            review_id=self.review_id,
            outcome=d.outcome,
            decided_on=d.decided_on,
            next_review_on=d.next_review_on,
        )
