"""What a VLO records on a Parole Board review for a victim: their VPS (sent to the Board,
marked late when it is), representations on licence conditions, an application to read the VPS
at an oral hearing and the Board's decision on it, a request for the decision summary; and the
review's tasks. Plain code: the holding workflow takes each under its lock (`check_*` first, as
its update's validator)."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.parole import ParoleActivities
    from models.activity_requests import ForwardRepresentations
    from models.audit import AuditDetail
    from models.messages import ActionResult, CompleteTask
    from models.parole import (
        PAROLE_BOARD,
        ForwardVps,
        ParoleVictimAction,
        ReadApplication,
        RecordReadDecision,
        SubmitParoleRepresentations,
        SubmitVps,
        VpsReceived,
        vps_lateness,
    )
    from models.vocabulary import LetterKind, TaskKind
    from models.working_days import add_working_days

from workflows.common import rejected, today
from workflows.review_hearing import ReviewHearing
from workflows.review_path import SOURCE_VPS
from workflows.steps import step


class ReviewSteps(ReviewHearing):
    async def submit_vps(self, action: SubmitVps) -> ActionResult:
        self.check_vps(action)
        await self._in_scheme(action.victim_id)
        s, t, now = self.state, self.state.timetable, today()
        late = vps_lateness(now, t.vps_due_on, t.hearing_on, self.params.parole)
        await step(
            ParoleActivities.forward_vps,
            ForwardVps(
                idempotency_key=f"{self.key_prefix}:vps-forwarded:{action.vps_id}",
                case_id=self.params.case_id,
                review_id=self.review_id,
                victim_id=action.victim_id,
                vps_id=action.vps_id,
                late_reason=late,
                by=action.by,
            ),
            summary="forward VPS",
            now=True,  # a VPS not the victim's refuses the action: nothing changes
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

    def check_vps(self, action: SubmitVps) -> None:
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

    async def submit_representations(self, action: SubmitParoleRepresentations) -> ActionResult:
        """Representations on licence conditions in a parole case go to the Parole Board, which
        sets the conditions of a release it directs (DVCVA s 35(4)-(5): to whoever decides)."""
        self.check_representations(action)
        await self._in_scheme(action.victim_id)
        await step(
            CaseStoreActivities.forward_representations,
            ForwardRepresentations(
                idempotency_key=f"{self.key_prefix}:forward:{action.representation_id}",
                case_id=self.params.case_id,
                victim_id=action.victim_id,
                representation_id=action.representation_id,
                decided_by=PAROLE_BOARD,
                by=action.by,
            ),
            summary="forward representations",
            now=True,  # representations not the victim's refuse the action: nothing changes
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

    def check_representations(self, action: SubmitParoleRepresentations) -> None:
        self._undecided()
        if action.representation_id in self.state.representation_ids:
            raise rejected(f"representation {action.representation_id} was already submitted")

    async def apply_to_read(self, action: ParoleVictimAction) -> ActionResult:
        """A victim may apply to read their VPS at an oral hearing; the Board decides (it is
        not a legal right): 000_5a1d5e000983110f.txt; domain.md 'Parole'."""
        self.check_apply_to_read(action)
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
            "the application to the Parole Board; record its decision when it comes",
            due,
        )
        return ActionResult(
            message=f"victim {action.victim_id}'s application to read their VPS recorded "
            f"(task {task.task_id} due {due}): the Parole Board decides; it is not a right"
        )

    def check_apply_to_read(self, action: ParoleVictimAction) -> None:
        self._undecided()
        t = self.state.timetable
        if t.hearing_on is not None and not t.oral_hearing:
            raise rejected(
                f"the Parole Board is deciding review {self.review_id} on the papers: a VPS is "
                f"read aloud only at an oral hearing ({SOURCE_VPS})"
            )
        if t.hearing_on is not None and t.hearing_on < today():
            raise rejected(f"the hearing on {t.hearing_on} has passed")
        if action.victim_id not in self._with_vps():
            raise rejected(
                f"victim {action.victim_id} has no VPS on this review: a victim applies to read "
                "their own statement (send their VPS first)"
            )
        for application in self.state.read_applications:
            if application.victim_id == action.victim_id:
                raise rejected(
                    f"victim {action.victim_id} already applied to read their VPS on "
                    f"{application.applied_on}"
                )

    async def record_read_decision(self, action: RecordReadDecision) -> ActionResult:
        self.check_read_decision(action)
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

    def check_read_decision(self, action: RecordReadDecision) -> None:
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

    async def request_summary(self, action: ParoleVictimAction) -> ActionResult:
        """Victims may ask for a summary of the Board's reasons (domain.md 'Parole'): the VLO
        obtains it from the Board and sends it (a task); the victim is told it is on its way."""
        self.check_summary(action)
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

    def check_summary(self, action: ParoleVictimAction) -> None:
        s = self.state
        if s.finished:
            raise rejected(f"parole review {self.review_id} has ended")
        if s.decision is None:
            raise rejected(
                f"review {self.review_id} has no decision yet: a summary of the Board's reasons "
                "follows its decision"
            )
        if action.victim_id not in s.told:
            raise rejected(
                f"victim {action.victim_id} was not told the outcome of review {self.review_id} "
                "(not in the scheme when it was decided)"
            )
        if action.victim_id in s.summaries:
            raise rejected(f"victim {action.victim_id} has already asked for the summary")

    async def complete_task(self, action: CompleteTask) -> ActionResult:
        self.check_complete_task(action)
        await self.tasks.complete(action, f"review {self.review_id}")
        return ActionResult(
            message=f"task {action.task_id} completed (parole review {self.review_id}); nothing "
            "else follows from it"
        )

    def check_complete_task(self, action: CompleteTask) -> None:
        self.tasks.open_task_of(action.task_id, f"review {self.review_id}")

    # ---- queries ----------------------------------------------------------------------------
