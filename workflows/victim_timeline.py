"""One victim's journey through the Victim Contact Scheme, for the life of the sentence: what
falls due when, and what the victim is told as the case moves on. Plain code driven by the
workflow that holds it (it owns no timer, lock or handler).

identified -> offered -> opted in / opted out / no response (chase, then close; a victim may
come back at any time) -> representations invited before release -> forwarded -> conditions
told -> release told -> condition ends told -> closed when licence and supervision end.
"""

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.letters import LetterActivities
    from models.activity_requests import LetterRequest, StageChange
    from models.deadlines import (
        chase_and_close,
        offer_due,
        representations_opens,
        representations_reply_by,
        representations_task_due,
    )
    from models.handoff import ResponsibilityChange
    from models.key_stages import told
    from models.release_month import ReleaseMonth
    from models.tasks import TaskOwner
    from models.vocabulary import (
        ContactLevel,
        DischargeKind,
        KeyStage,
        LetterKind,
        Stage,
        TaskKind,
    )
    from models.workflow_state import CaseEvent, VictimInput, VictimState

from workflows.common import ENGINE_ACTOR, today
from workflows.steps import step
from workflows.tasks import TaskBook
from workflows.victim_hospital import HospitalVictim
from workflows.victim_letters import VictimLetters

OFFER_TASK = "offer"
CHASE_TASK = "chase"
REPRESENTATIONS_TASK = "representations"


class VictimTimeline(VictimLetters, HospitalVictim):
    def __init__(self, params: VictimInput, owner_id: str, key_prefix: str) -> None:
        """`owner_id`: the workflow that holds this victim (its tasks are completed there);
        `key_prefix`: what every step's idempotency key starts with, one per victim."""
        self.params = params
        self.owner_id = owner_id
        self.key_prefix = key_prefix
        self.state = params.state or VictimState(
            milestones=params.milestones,
            conditions=params.conditions,
            offer_due=offer_due(params.milestones.sentence_date, params.policy),
            hospital=params.hospital,
        )
        self.tasks = TaskBook(
            self.state.tasks,
            TaskOwner(
                workflow_id=owner_id,
                case_id=params.case_id,
                victim_id=params.victim_id,
                responsible_vlo=params.responsible_vlo,
            ),
            params.policy,
            key_prefix=key_prefix,
        )

    def closed(self) -> bool:
        """Closed, and every letter held for the victim sent (an absolute discharge ends the
        scheme, and the letter saying so goes in the following month)."""
        return self.state.stage is Stage.CLOSED and not self.state.held_letters

    def next_wake(self) -> date | None:
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

    async def on_time_passing(self) -> None:
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
            key = "release" if s.opt_ins <= 1 else f"release-optin-{s.opt_ins}"
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

    # ---- steps ---------------------------------------------------------------------------

    async def identify(self) -> None:
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

    async def on_case_event(self, event: CaseEvent) -> None:
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
                key = f"release-re-{event.sequence}"  # never a came-back key (above)
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
        await step(
            CaseStoreActivities.record_stage,
            StageChange(
                idempotency_key=f"{self.key_prefix}:stage:{stage.value}:{workflow.now().isoformat()}",
                case_id=self.params.case_id,
                victim_id=self.params.victim_id,
                workflow_id=self.owner_id,
                stage=stage,
                by=by,
                note=note,
                **fields,
            ),
            summary=f"stage {stage.value}",
        )

    async def _letter(self, kind: LetterKind, key: str, **fields: object) -> None:
        await step(
            LetterActivities.send_letter,
            LetterRequest(
                idempotency_key=f"{self.key_prefix}:letter:{key}",
                case_id=self.params.case_id,
                victim_id=self.params.victim_id,
                kind=kind,
                **fields,
            ),
            summary=f"letter {kind.value}",
            # A bad address: the case goes on, and a VLO reaches the victim another way.
            on_rejected=lambda: self.tasks.undelivered(kind, key),
        )

    async def undelivered(self, kind: LetterKind, key: str) -> None:
        """The delivery-status job found a letter's email or text failed (workflows/delivery.py)."""
        await self.tasks.undelivered(kind, key)

    async def hand_over(self, change: ResponsibilityChange) -> None:
        """A provider hand-off was accepted (handoff_path.py): the victim's VLO, provider and
        region switch; open tasks move to the new VLO, due dates unchanged; the victim's stage,
        choices and contact details are untouched (domain.md 'Providers and hand-offs')."""
        receiver = change.receiver
        self.params.responsible_vlo = receiver.vlo
        self.params.provider, self.params.region = receiver.provider.value, receiver.region
        await self.tasks.hand_over(change)
