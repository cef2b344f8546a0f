"""A case's Parole Board reviews, held in its state (workflows/review_path.py runs each; the
VLO's steps on them are workflows/case_reviews.py), and the task preparing victims for the
review at the parole eligibility date: mixed into CaseWorkflow (workflows/case.py)."""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.audit import AuditDetail, Ref
    from models.deadlines import parole_preparation
    from models.ids import review_key
    from models.key_stages import key_stage_problem
    from models.key_stages import record as note_key_stage
    from models.messages import (
        ActionResult,
    )
    from models.parole import (
        ParoleDecided,
        ParoleInput,
        ParoleState,
        ParoleTimetable,
        ReferParole,
        parole_review_id,
        timetable_problems,
    )
    from models.vocabulary import KeyStage, TaskKind

from workflows.case_host import CaseHost
from workflows.common import (
    ENGINE_ACTOR,
    rejected,
    today,
)
from workflows.review_steps import ReviewSteps

# A tariff / parole eligibility date nears: prepare the victims for the Parole Board review.
PAROLE_PREPARATION_TASK = "parole-preparation"


class CaseParole(CaseHost):
    """The case's reviews: one path each, in `state.reviews` (carried across continue-as-new)."""

    reviews: dict[str, ReviewSteps]

    # ---- Parole Board reviews (workflows/review_path.py) --------------------------------------

    def _review_path(
        self, review_id: str, timetable: ParoleTimetable, state: ParoleState | None, by: str = ""
    ) -> ReviewSteps:
        params = ParoleInput(
            case_ref=self.params.case_ref,
            case_id=self.case_id,
            case_workflow_id=workflow.info().workflow_id,
            responsible_vlo=self.responsible_vlo,
            provider=self.params.provider,
            region=self.params.region,
            referred_by=by,
            policy=self.params.policy,
            timetable=timetable,
            state=state,
        )
        return ReviewSteps(
            params,
            review_id=review_id,
            owner_id=workflow.info().workflow_id,
            key_prefix=review_key(self.params.case_ref, review_id),
        )

    def _take_reviews(self) -> None:
        """The reviews this run carries (a run continued as new)."""
        assert self.state is not None
        self.reviews = {
            review_id: self._review_path(review_id, state.timetable, state)
            for review_id, state in self.state.reviews.items()
        }

    def _running_reviews(self) -> list[ReviewSteps]:
        """Reviews open, or decided and taking summary requests; an ended one has nothing."""
        return [r for r in self.reviews.values() if not r.state.finished]

    def _reviews_next_wake(self) -> list[date | None]:
        return [r.next_wake() for r in self._running_reviews()]

    async def _reviews_time_passing(self) -> None:
        for review in self._running_reviews():
            await review.on_time_passing()

    def _review_due_dates(self) -> list[date]:
        return [t.due_on for r in self.reviews.values() for t in r.state.tasks]

    @workflow.update
    async def refer_parole(self, action: ReferParole) -> ActionResult:
        """The case is referred to the Parole Board (domain.md 'Parole'): a review starts, held
        in the case's state, and invites every victim in the scheme (their letter tells them of
        the review, so no key-stage letter besides)."""
        async with self._vlo_action():
            self._check_refer_parole(action)
            state = self._open_state()
            number = state.parole_reviews + 1
            review_id = parole_review_id(self.params.case_ref, number)
            t = action.timetable
            review = self._review_path(review_id, t, None, action.by)
            state.parole_reviews = number
            state.open_parole_review = review_id
            state.reviews[review_id] = review.state
            self.reviews[review_id] = review
            note_key_stage(state, KeyStage.PAROLE_REVIEW, t.referred_on)
            await review.refer()
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

    @refer_parole.validator
    def _check_refer_parole(self, action: ReferParole) -> None:
        state = self._open_state()
        if state.hospital is not None:
            # A hospital patient is discharged by the tribunal or the Secretary of State, not
            # released by the Parole Board (DVCVA ss 36-44A; workflows/hospital.py).
            raise rejected(
                f"case {self.params.case_ref} is on a hospital path: the Parole Board does not "
                "review a hospital patient; discharge is for the tribunal or the Secretary of "
                "State: record a discharge"
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

    async def _end_parole_reviews(self, reason: str) -> None:
        """The case closing ends every review still running, open tasks closed with the
        reason; the victims hear of the end once, from the case (domain.md 'Parole')."""
        for review in self._running_reviews():
            await review.end(reason)
        assert self.state is not None
        self.state.open_parole_review = None

    async def _victim_left(self, victim_id: int) -> None:
        """A victim left the scheme (opted out): an open Parole Board review no longer counts
        them as invited and closes their review tasks (domain.md 'Opt in or out': a victim who
        says no is not contacted again unless they come back)."""
        assert self.state is not None
        review = self.reviews.get(self.state.open_parole_review or "")
        if review is not None:
            await review.victim_left(victim_id)

    async def _end_open_review_on_release(self) -> None:
        """A release (at the release date, say) while a Parole Board review is still open ends
        the review: no later decision can be recorded and told to victims who have had the
        release letter. Its tasks close; victims hear of the release only."""
        assert self.state is not None
        if self.state.open_parole_review is not None:
            await self._end_parole_reviews("released on licence: the review has ended")

    async def _parole_outcome(self, decided: ParoleDecided) -> None:
        """A review's decision (the review told the victims): recorded on the case. No
        release: the next review's date is kept and shown. Open conditions: the Board's
        recommendation only; the move itself is a key stage the VLO records when it happens."""
        state = self.state
        assert state is not None
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
