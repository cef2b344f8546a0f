"""One victim's journey through the Victim Contact Scheme, for the life of the sentence.

identified -> offered -> opted in / opted out / no response (chase, then close; a victim may
come back at any time) -> representations invited before release -> forwarded -> conditions
told -> release told -> condition ends told -> closed when licence and supervision end.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.letters import LetterActivities
    from models.deadlines import (
        chase_and_close,
        offer_due,
        representations_opens,
        representations_reply_by,
        representations_task_due,
    )
    from models.delivery import LetterUndelivered
    from models.handoff import ResponsibilityChange
    from models.hospital import discharge_decider
    from models.ids import case_workflow_id
    from models.ids import victim_workflow_id as victim_workflow_id  # re-exported
    from models.key_stages import told
    from models.messages import (
        ActionResult,
        CaseEvent,
        CompleteTask,
        ConditionNotice,
        ForwardRepresentations,
        HeldLetter,
        LetterRequest,
        OptIn,
        OptOut,
        Scheduled,
        StageChange,
        SubmitRepresentations,
        TaskOwner,
        VictimInput,
        VictimState,
        VictimView,
    )
    from models.release_month import ReleaseMonth, release_told_on
    from models.vocabulary import (
        ContactLevel,
        DischargeKind,
        KeyStage,
        LetterKind,
        Stage,
        TaskKind,
    )

from workflows.common import (
    ENGINE_ACTOR,
    WakeTimer,
    call,
    next_note,
    renewed,
    should_continue_as_new,
    sleep_until,
    today,
)
from workflows.common import rejected as rejected  # explicitly re-exported: workflows use it
from workflows.hospital import HospitalVictim
from workflows.search import Published
from workflows.tasks import TaskBook

# DVCVA s 35(5): representations go to whoever decides the licence conditions. For a
# determinate sentence that is the prison governor acting for the Secretary of State.
LICENCE_DECIDED_BY = "releasing authority (prison governor for the Secretary of State)"

OFFER_TASK = "offer"
CHASE_TASK = "chase"
REPRESENTATIONS_TASK = "representations"


@workflow.defn(name="VictimContact")
class VictimWorkflow(HospitalVictim):
    @workflow.init
    def __init__(self, params: VictimInput) -> None:
        self.params = params
        self.state = params.state or VictimState(
            milestones=params.milestones,
            conditions=params.conditions,
            offer_due=offer_due(params.milestones.sentence_date, params.policy),
            hospital=params.hospital,
        )
        self.inbox: list[CaseEvent] = []
        self.replan = False  # a VLO action changed what is due next: recompute the wake-up
        self.search = Published()
        self.wake_timer = WakeTimer()
        self.lock = asyncio.Lock()  # one change at a time: updates and the main loop
        self.tasks = TaskBook(
            self.state.tasks,
            TaskOwner(
                workflow_id=workflow.info().workflow_id,
                case_id=params.case_id,
                victim_id=params.victim_id,
                responsible_vlo=params.responsible_vlo,
            ),
            params.policy,
        )

    # ---- main loop -----------------------------------------------------------------------

    @workflow.run
    async def run(self, params: VictimInput) -> Stage:
        run_started = workflow.now()
        if params.state is None:
            async with self.lock:
                await self._identify()
        self._publish()
        while not self._closed():
            await sleep_until(
                self._next_wake(),
                run_started,
                lambda: self.replan or bool(self.inbox),
                self.wake_timer,
            )
            async with self.lock:
                self.replan = False
                while self.inbox:
                    await self._on_case_event(self.inbox.pop(0))
                await self._on_time_passing()
                self._publish()
            if not self._closed() and should_continue_as_new(run_started):
                policy = await renewed(params.policy)
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    params.model_copy(update={"state": self.state, "policy": policy})
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state.stage

    def _publish(self) -> None:
        """Search attributes and the Web UI's 'current details': where this victim stands and
        what the workflow waits for (no personal data)."""
        s = self.state
        self.search.publish(
            who=f"Victim {self.params.victim_id} of case {self.params.case_ref}",
            case_ref=self.params.case_ref,
            stage=s.stage.value,
            provider=self.params.provider,
            region=self.params.region,
            due_dates=[t.due_on for t in s.tasks],
            upcoming=[(item.on, item.what) for item in self.view().scheduled],
            extra=f"{len(s.tasks)} open VLO task(s)",
        )

    def _closed(self) -> bool:
        """Closed, and every letter held for the victim sent (an absolute discharge ends the
        scheme, and the letter saying so goes in the following month)."""
        return self.state.stage is Stage.CLOSED and not self.state.held_letters

    def _next_wake(self) -> date | None:
        s = self.state
        candidates = [self.tasks.next_escalation()]
        candidates.extend(h.send_on for h in s.held_letters)
        if s.stage is Stage.OFFERED:
            candidates.append(s.close_offer_on if s.chased else s.chase_on)
        if s.stage is Stage.OPTED_IN:
            candidates.append(self._representations_opens())
            if s.contact_level is ContactLevel.ANNUAL:
                candidates.append(s.next_annual_letter)
            candidates.extend(
                self._condition_end_told_on(c) for c in self._condition_ends_pending()
            )
        return min((d for d in candidates if d is not None), default=None)

    async def _on_time_passing(self) -> None:
        s, now = self.state, today()
        await self.tasks.escalate_overdue()
        if s.stage is Stage.OFFERED and not s.chased and s.chase_on and now >= s.chase_on:
            await self._letter(LetterKind.CHASE, "chase")
            await self.tasks.open(
                CHASE_TASK,
                TaskKind.CHASE_RESPONSE,
                "Try to reach victim about offer",
                s.close_offer_on or now,
            )
            s.chased = True
        elif s.stage is Stage.OFFERED and s.chased and s.close_offer_on and now >= s.close_offer_on:
            await self.tasks.close(CHASE_TASK, ENGINE_ACTOR, "offer closed: no response")
            await self._letter(LetterKind.OFFER_CLOSED, "offer-closed")
            await self._set_stage(Stage.NO_RESPONSE, "no response to offer and chase")
        if s.stage is Stage.OPTED_IN:
            await self._catch_up()
        await self._send_held_letters()  # held while opted in; sent even once the case closed

    async def _catch_up(self) -> None:
        """Everything an opted-in victim is owed by now, whenever they opted in."""
        s, now = self.state, today()
        if s.hospital is not None:
            await self._hospital_duties()  # DVCVA s 36A / s 42A notices; discharge
        opens = self._representations_opens()
        if opens is not None and now >= opens and s.representations_invited_on is None:
            await self._invite_representations()
        untold = [
            c.condition_id
            for c in s.conditions
            if c.victim_related and c.condition_id not in s.conditions_told
        ]
        if untold:
            await self._tell_conditions(untold)
        if s.milestones.release_date and not s.release_told:
            # A victim who opted out before a re-release was told, and came back, is told it
            # under a new key: the first release's letter went under "release".
            key = "release" if s.opt_ins <= 1 else f"release-{s.opt_ins}"
            release = s.milestones.release_date
            self._hold(LetterKind.RELEASE, key, release, release_on=release)
            s.release_told = True
        await self._send_held_letters()
        ids = [
            c.condition_id
            for c in self._condition_ends_pending()
            if self._condition_end_told_on(c) <= now
        ]
        if ids:
            ended_kind = (
                LetterKind.CONDITION_ENDED
                if s.hospital is None
                else LetterKind.DISCHARGE_CONDITION_ENDED
            )
            await self._letter(ended_kind, f"ended-{ids}", condition_ids=ids)
            s.condition_ends_told.extend(ids)
        if s.next_annual_letter and now >= s.next_annual_letter:
            if s.contact_level is ContactLevel.ANNUAL:
                await self._letter(LetterKind.ANNUAL_UPDATE, f"annual-{s.next_annual_letter}")
            s.next_annual_letter = s.next_annual_letter + timedelta(days=365)

    async def _tell_conditions(self, untold: list[int]) -> None:
        """DVCVA s 35(7) licence conditions about contact with the victim; on a hospital path
        DVCVA ss 38, 38A, 41(3), 44(3), 44A: conditions of discharge, and when a limitation or
        restriction direction ceases. Told at once when recorded before the month of release
        (or discharge); from that month on they are usually recorded on the day itself, so the
        letter waits, as the release letter does, for a day that depends on the month alone."""
        s, now = self.state, today()
        hospital = s.hospital is not None
        kind = LetterKind.DISCHARGE_CONDITIONS if hospital else LetterKind.CONDITIONS_IMPOSED
        restriction_ends_on = self._restriction_end() if hospital else None
        released = s.hospital.discharged_on if s.hospital else s.milestones.release_milestone()
        key = f"conditions-{untold}"
        if released is not None and ReleaseMonth.of(released) <= ReleaseMonth.of(now):
            self._hold(
                kind,
                key,
                released,
                restriction_ends_on=restriction_ends_on,
                condition_ids=untold,
            )
        else:
            await self._letter(
                kind, key, condition_ids=untold, restriction_ends_on=restriction_ends_on
            )
        s.conditions_told.extend(untold)

    def _representations_opens(self) -> date | None:
        """Representations are invited before release; none once released (DVCVA s 35(3)).
        A patient has no release date: representations about discharge may be made at any time
        while detained (DVCVA ss 37, 37A, 40, 43, 43A), so none is invited on a timer."""
        if self.state.hospital is not None:
            return None
        release = self.state.milestones.release_milestone()
        if release is None or self.state.milestones.release_date is not None:
            return None
        if self.state.representations_invited_on is not None:
            return None
        return representations_opens(ReleaseMonth.of(release), self.params.policy)

    def _hold(
        self,
        kind: LetterKind,
        key: str,
        month_of: date,
        release_on: date | None = None,
        discharge: DischargeKind | None = None,
        restriction_ends_on: date | None = None,
        condition_ids: list[int] | None = None,
    ) -> None:
        """A letter about something on the day of `month_of` (a release, a discharge, the end
        of a licence) waits for a day that depends on its month alone: sent the day it
        happened, its sending time would give the day away."""
        self.state.held_letters.append(
            HeldLetter(
                key=key,
                kind=kind,
                send_on=release_told_on(
                    ReleaseMonth.of(month_of), today(), self.params.policy.bank_holidays
                ),
                release_on=release_on,
                discharge=discharge,
                restriction_ends_on=restriction_ends_on,
                condition_ids=condition_ids or [],
            )
        )

    def _drop_held_letters(self) -> None:
        """A victim who opts out is not contacted again unless they come back: the letters held
        for them are dropped, and marked untold so that coming back catches up as before."""
        s = self.state
        for held in s.held_letters:
            s.conditions_told = [c for c in s.conditions_told if c not in held.condition_ids]
            if held.kind is LetterKind.RELEASE:
                s.release_told = False
            if held.kind is LetterKind.DISCHARGED and held.release_on in s.discharges_told:
                s.discharges_told.remove(held.release_on)
        s.held_letters = []

    async def _send_held_letters(self) -> None:
        s = self.state
        for held in [h for h in s.held_letters if h.send_on <= today()]:
            await self._letter(
                held.kind,
                held.key,
                release_on=held.release_on,
                discharge=held.discharge,
                restriction_ends_on=held.restriction_ends_on,
                condition_ids=held.condition_ids,
            )
            s.held_letters.remove(held)

    def _condition_ends_pending(self) -> list[ConditionNotice]:
        """Conditions the victim was told of whose end they are still to be told."""
        s = self.state
        # Conditions run from release on licence, or from discharge from hospital.
        started = s.milestones.release_date if s.hospital is None else s.hospital.discharged_on
        if started is None:
            return []
        return [
            c
            for c in s.conditions
            if c.ends_on is not None
            and c.condition_id in s.conditions_told
            and c.condition_id not in s.condition_ends_told
        ]

    def _condition_end_told_on(self, condition: ConditionNotice) -> date:
        """Conditions often run a fixed time from release: their end is told, as a release is,
        on the first working day of the month after (the letter names the month only)."""
        assert condition.ends_on is not None
        month = ReleaseMonth.of(condition.ends_on)
        return release_told_on(month, condition.ends_on, self.params.policy.bank_holidays)

    # ---- steps ---------------------------------------------------------------------------

    async def _identify(self) -> None:
        await self._set_stage(Stage.IDENTIFIED, "victim identified", offer_due=self.state.offer_due)
        # Victims' Code 2020 Right 11: a VLO contacts the victim within the deadline.
        await self.tasks.open(
            OFFER_TASK,
            TaskKind.OFFER_SCHEME,
            "Contact victim to offer the Victim Contact Scheme",
            self.state.offer_due,
        )

    async def _make_offer(self, by: str) -> None:
        s = self.state
        s.offered_on = today()
        s.chase_on, s.close_offer_on = chase_and_close(s.offered_on, self.params.policy)
        # A patient's victim is offered the hospital paths' scheme (DVCVA ss 36-44A).
        offer = LetterKind.OFFER if s.hospital is None else LetterKind.HOSPITAL_OFFER
        await self._letter(offer, "offer")
        await self._set_stage(Stage.OFFERED, "scheme offered", by=by, offered_on=s.offered_on)

    async def _invite_representations(self) -> None:
        s = self.state
        release = s.milestones.release_milestone()
        assert release is not None
        reply_by = representations_reply_by(ReleaseMonth.of(release), today(), self.params.policy)
        s.representations_invited_on = today()
        s.representations_reply_by, s.representations_reply_by_given_on = reply_by, today()
        s.representations_due = representations_task_due(reply_by, release, today())
        await self._letter(
            LetterKind.REPRESENTATIONS_INVITED,
            "representations-invited",
            release_on=release,
            due_on=reply_by,
        )
        await self.tasks.open(
            REPRESENTATIONS_TASK,
            TaskKind.DISCUSS_REPRESENTATIONS,
            "Discuss licence conditions with victim; record any representations",
            s.representations_due,
        )

    async def _on_case_event(self, event: CaseEvent) -> None:
        s = self.state
        if s.stage is Stage.CLOSED:
            return  # only waiting to send a held letter: the scheme has ended for this victim
        s.milestones = event.milestones
        if event.kind == "milestones_changed":
            await self._rearm_representations()
        elif event.kind == "conditions_imposed":
            known = {c.condition_id for c in s.conditions}
            s.conditions.extend(c for c in event.conditions if c.condition_id not in known)
        elif event.kind == "released" and event.re_release:
            # Released again after a recall: told as a release is, to every opted-in victim,
            # the month only (domain.md 'On licence'; 'Never disclosed').
            if s.stage is Stage.OPTED_IN and event.on is not None:
                key = f"release-{event.sequence}"
                self._hold(LetterKind.RELEASE, key, event.on, release_on=event.on)
                s.release_told = True
        elif event.kind == "key_stage" and event.key_stage is not None:
            # Who hears of which key stage: models/key_stages.py (escape and absconding reach
            # every opted-in victim: EU Victims Directive 2012/29/EU art 6(5)).
            if s.stage is Stage.OPTED_IN and told(event.key_stage, s.contact_level):
                await self._letter(
                    LetterKind.KEY_STAGE, f"key-stage-{event.sequence}", key_stage=event.key_stage
                )
        elif event.kind == "hospital":
            await self._on_hospital_event(event)  # workflows/hospital.py
        elif event.kind == "ended":
            await self._close(ended_by=event.key_stage)
            return
        if s.stage is Stage.OPTED_IN:
            await self._catch_up()

    async def _rearm_representations(self) -> None:
        """A release moved to another month moves the victim's reply-by date with it, and a
        victim still to reply is told the new date with at least the minimum notice (DVCVA
        s 35: the victim must still be heard in time). A move within the month changes nothing
        the victim sees. Nothing already received is lost."""
        s = self.state
        release = s.milestones.release_milestone()
        if s.representations_invited_on is None or release is None or s.milestones.release_date:
            return
        month, policy = ReleaseMonth.of(release), self.params.policy
        reply_by = s.representations_reply_by
        awaited = not s.representation_ids and s.stage is Stage.OPTED_IN
        # Compared with the date the victim would have been given for this month on the day
        # they were given theirs: a move within the month, or another milestone, changes none.
        given_on = s.representations_reply_by_given_on or s.representations_invited_on
        if awaited and representations_reply_by(month, given_on, policy) != reply_by:
            reply_by = representations_reply_by(month, today(), policy)
            s.representations_reply_by, s.representations_reply_by_given_on = reply_by, today()
            s.representations_redated += 1
            await self._letter(
                LetterKind.REPRESENTATIONS_INVITED,
                f"representations-redated-{s.representations_redated}",
                release_on=release,
                due_on=reply_by,
                redated=True,
            )
        due = representations_task_due(reply_by or release, release, today())
        if due != s.representations_due:
            s.representations_due = due
            await self.tasks.reschedule(REPRESENTATIONS_TASK, due, "release date changed")

    async def _close(self, ended_by: KeyStage | None = None) -> None:
        """The case ended: at the end of licence and supervision, or with a key stage (the
        offender's death, models/key_stages.py), whose letter to every opted-in victim, in
        their channel and language, also says their part in the scheme has ended."""
        s = self.state
        why = "licence and supervision ended" if ended_by is None else f"{ended_by.value}"
        # An absolute discharge ends a hospital order; its letter said the scheme ended.
        discharged = s.hospital is not None and s.hospital.discharge is DischargeKind.ABSOLUTE
        if discharged and ended_by is None:
            why = "absolutely discharged from hospital: the order ended"
        if s.stage is Stage.OPTED_IN and not (discharged and ended_by is None):
            if ended_by is None:
                # Licence and supervision end a fixed time after release: the letter waits for
                # the month after, so its day does not give the release day away.
                self._hold(LetterKind.SCHEME_ENDED, "scheme-ended", today())
            else:
                await self._letter(LetterKind.KEY_STAGE, "scheme-ended", key_stage=ended_by)
        await self.tasks.close_all(ENGINE_ACTOR, f"case closed: {why}")
        await self._set_stage(Stage.CLOSED, why)

    async def _set_stage(
        self, stage: Stage, note: str, by: str = ENGINE_ACTOR, **fields: object
    ) -> None:
        self.state.stage = stage
        await call(
            CaseStoreActivities.record_stage,
            StageChange(
                idempotency_key=f"{workflow.info().workflow_id}:stage:{stage.value}:{workflow.now().isoformat()}",
                case_id=self.params.case_id,
                victim_id=self.params.victim_id,
                workflow_id=workflow.info().workflow_id,
                stage=stage,
                by=by,
                note=note,
                **fields,
            ),
            summary=f"stage {stage.value}",
        )

    async def _letter(self, kind: LetterKind, key: str, **fields: object) -> None:
        try:
            await call(
                LetterActivities.send_letter,
                LetterRequest(
                    idempotency_key=f"{workflow.info().workflow_id}:letter:{key}",
                    case_id=self.params.case_id,
                    victim_id=self.params.victim_id,
                    kind=kind,
                    **fields,
                ),
                summary=f"letter {kind.value}",
            )
        except ActivityError as err:
            cause = err.cause
            if not (isinstance(cause, ApplicationError) and cause.type == "NotifyRejected"):
                raise
            # A bad address: the case goes on, and a VLO reaches the victim another way.
            await self.tasks.undelivered(kind, key)

    @workflow.signal
    async def letter_undelivered(self, notice: LetterUndelivered) -> None:
        """The delivery-status job found this workflow's email or text failed
        (workflows/delivery.py)."""
        async with self._vlo_action():
            await self.tasks.undelivered(notice.kind, notice.key)

    # ---- messages from the case ------------------------------------------------------------

    @workflow.signal
    def case_event(self, event: CaseEvent) -> None:
        self.inbox.append(event)

    @workflow.signal
    async def responsibility_changed(self, change: ResponsibilityChange) -> None:
        """A provider hand-off was accepted (workflows/handoff.py): the victim's VLO, provider and
        region switch; open tasks move to the new VLO, due dates unchanged; the victim's stage,
        choices and contact details are untouched (domain.md 'Providers and hand-offs')."""
        async with self._vlo_action():
            receiver = change.receiver
            self.params.responsible_vlo = receiver.vlo
            self.params.provider, self.params.region = receiver.provider.value, receiver.region
            await self.tasks.hand_over(change)

    # ---- VLO actions -------------------------------------------------------------------------

    @asynccontextmanager
    async def _vlo_action(self) -> AsyncIterator[None]:
        """One VLO action at a time; afterwards the main loop re-plans its timers (the action
        may have changed what falls due next) and ops see the new state."""
        async with self.lock:
            yield
            self.replan = True
            self._publish()

    @workflow.update
    async def opt_in(self, action: OptIn) -> ActionResult:
        async with self._vlo_action():
            self._check_opt_in(action)
            s = self.state
            if s.stage is Stage.IDENTIFIED:  # offered and accepted in one conversation
                await self.tasks.close(OFFER_TASK, action.by, "offered; victim opted in")
                s.offered_on = today()
            s.contact_level = action.contact_level
            s.opted_in_on = today()
            s.next_annual_letter = today() + timedelta(days=365)
            s.opt_ins += 1
            await self.tasks.close(CHASE_TASK, action.by, "victim opted in")
            await self._letter(LetterKind.OPT_IN_CONFIRMED, f"opt-in-{s.opt_ins}")
            await self._set_stage(
                Stage.OPTED_IN,
                f"opted in at level {action.contact_level.value}",
                by=action.by,
                contact_level=action.contact_level,
                opted_in_on=s.opted_in_on,
                offered_on=s.offered_on,
            )
            await self._catch_up()
            return ActionResult(
                message=f"victim {self.params.victim_id} opted in ({action.contact_level.value}): "
                f"confirmation letter sent; {next_note(self.view().scheduled)}"
            )

    @opt_in.validator
    def _check_opt_in(self, action: OptIn) -> None:
        # A victim may opt in at any time while the sentence runs (domain.md 'Opt in or out').
        if self.state.stage is Stage.OPTED_IN:
            raise rejected(f"victim {self.params.victim_id} is already opted in")
        if self.state.stage is Stage.CLOSED:
            raise rejected(f"victim {self.params.victim_id}'s scheme has ended: the case is closed")

    @workflow.update
    async def opt_out(self, action: OptOut) -> ActionResult:
        async with self._vlo_action():
            self._check_opt_out(action)
            # A victim who says no is not contacted again unless they come back: no letter.
            closed = len(self.state.tasks)
            await self.tasks.close_all(action.by, "victim opted out")
            self._drop_held_letters()
            await self._set_stage(Stage.OPTED_OUT, "opted out", by=action.by, opted_out_on=today())
            # An open Parole Board review closes this victim's tasks too (workflows/case.py).
            with contextlib.suppress(Exception):  # the case has ended: no review runs
                await workflow.get_external_workflow_handle(
                    case_workflow_id(self.params.case_ref)
                ).signal("victim_opted_out", self.params.victim_id)
            return ActionResult(
                message=f"victim {self.params.victim_id} opted out: no letter sent, no further "
                f"contact unless they come back; {closed} open task(s) closed"
            )

    @opt_out.validator
    def _check_opt_out(self, action: OptOut) -> None:
        if self.state.stage in (Stage.OPTED_OUT, Stage.CLOSED):
            raise rejected(
                f"victim {self.params.victim_id} cannot opt out: stage is {self.state.stage.value}"
            )

    @workflow.update
    async def submit_representations(self, action: SubmitRepresentations) -> ActionResult:
        async with self._vlo_action():
            self._check_representations(action)
            s = self.state
            # DVCVA s 35(5) licence conditions; on a hospital path, discharge conditions go to
            # whoever decides them (models/hospital.py: ss 37, 37A, 40, 43, 43A).
            decided_by = (
                LICENCE_DECIDED_BY if s.hospital is None else discharge_decider(s.hospital, today())
            )
            s.representation_ids.append(action.representation_id)
            await call(
                CaseStoreActivities.forward_representations,
                ForwardRepresentations(
                    idempotency_key=f"{workflow.info().workflow_id}:forward:{action.representation_id}",
                    case_id=self.params.case_id,
                    victim_id=self.params.victim_id,
                    representation_id=action.representation_id,
                    decided_by=decided_by,
                    by=action.by,
                ),
                summary="forward representations",
            )
            received = (
                LetterKind.REPRESENTATIONS_RECEIVED
                if s.hospital is None
                else LetterKind.DISCHARGE_REPRESENTATIONS_RECEIVED
            )
            await self._letter(received, f"representations-{action.representation_id}")
            await self.tasks.close(REPRESENTATIONS_TASK, action.by, "representations received")
            if s.hospital is not None:  # s 36A / s 42A: the hospital managers get them too
                await self._hospital_representations(action.representation_id, action.by)
            return ActionResult(
                message=f"representations forwarded to the {decided_by}; receipt letter sent "
                "to the victim"
            )

    @submit_representations.validator
    def _check_representations(self, action: SubmitRepresentations) -> None:
        s = self.state
        # DVCVA s 35(3)-(4): representations are for victims who asked to make them, about
        # conditions not yet set at release.
        if s.stage is not Stage.OPTED_IN:
            raise rejected(
                f"victim {self.params.victim_id} is not opted in (stage {s.stage.value}): "
                "record the opt-in first"
            )
        if s.hospital is not None and s.hospital.discharge is DischargeKind.ABSOLUTE:
            raise rejected(
                f"the patient was absolutely discharged on {s.hospital.discharged_on}: the "
                "order has ended, and with it representations about discharge conditions"
            )
        if s.hospital is None and s.milestones.release_date is not None:
            raise rejected(
                f"the offender was released on licence on {s.milestones.release_date}: "
                "representations on licence conditions are closed"
            )
        if action.representation_id in s.representation_ids:
            raise rejected(f"representation {action.representation_id} was already submitted")

    @workflow.update
    async def complete_task(self, action: CompleteTask) -> ActionResult:
        async with self._vlo_action():
            self._check_complete_task(action)
            task = await self.tasks.complete(action, f"victim {self.params.victim_id}")
            done = (
                f"task {action.task_id} completed (victim {self.params.victim_id}, case "
                f"{self.params.case_ref})"
            )
            if task.kind is TaskKind.OFFER_SCHEME and self.state.stage is Stage.IDENTIFIED:
                await self._make_offer(action.by)
                s = self.state
                return ActionResult(
                    message=f"{done}: offer letter sent; chase due {s.chase_on}, offer closes "
                    f"{s.close_offer_on} if still unanswered"
                )
            return ActionResult(message=f"{done}; {next_note(self.view().scheduled)}")

    @complete_task.validator
    def _check_complete_task(self, action: CompleteTask) -> None:
        self.tasks.open_task_of(action.task_id, f"victim {self.params.victim_id}")

    # ---- queries --------------------------------------------------------------------------

    @workflow.query
    def view(self) -> VictimView:
        s = self.state
        scheduled = [
            Scheduled(on=t.due_on, what=f"task {t.task_id} {t.kind.value} due") for t in s.tasks
        ]
        if s.stage is Stage.OFFERED:
            if not s.chased and s.chase_on:
                scheduled.append(Scheduled(on=s.chase_on, what="chase unanswered offer"))
            if s.close_offer_on:
                scheduled.append(Scheduled(on=s.close_offer_on, what="close unanswered offer"))
        if s.stage is Stage.OPTED_IN:
            opens = self._representations_opens()
            if opens:
                scheduled.append(
                    Scheduled(on=opens, what="invite representations on licence conditions")
                )
            if s.contact_level is ContactLevel.ANNUAL and s.next_annual_letter:
                scheduled.append(Scheduled(on=s.next_annual_letter, what="annual update letter"))
            scheduled.extend(
                Scheduled(on=self._condition_end_told_on(c), what="tell victim a condition ended")
                for c in self._condition_ends_pending()
            )
        scheduled.extend(
            Scheduled(on=h.send_on, what=f"{h.kind.value} letter (month only)")
            for h in s.held_letters
        )
        return VictimView(
            victim_id=self.params.victim_id,
            stage=s.stage,
            contact_level=s.contact_level,
            open_tasks=list(s.tasks),
            scheduled=sorted(scheduled, key=lambda x: x.on),
            responsible_vlo=self.params.responsible_vlo,
            provider=self.params.provider,
            region=self.params.region,
            hospital=s.hospital,
            representation_ids=list(s.representation_ids),
            hospital_notices=list(s.hospital_notices),
        )
