"""A victim's path: the timeline (workflows/victim_timeline.py) and what a VLO does for the
victim: opt in or out, representations, the victim's tasks; and how the victim stands (view).
Plain code: the workflow that holds the victim takes each action under its lock and publishes."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from models.activity_requests import ForwardRepresentations
    from models.hospital import discharge_decider
    from models.messages import (
        ActionResult,
        CompleteTask,
        OptIn,
        OptOut,
        Scheduled,
        SubmitRepresentations,
        VictimView,
    )
    from models.vocabulary import ContactLevel, DischargeKind, LetterKind, Stage, TaskKind

from workflows.common import next_note, rejected, today
from workflows.steps import step
from workflows.victim_timeline import (
    CHASE_TASK,
    OFFER_TASK,
    REPRESENTATIONS_TASK,
    VictimTimeline,
)

# DVCVA s 35(5): representations go to whoever decides the licence conditions. For a
# determinate sentence that is the prison governor acting for the Secretary of State.
LICENCE_DECIDED_BY = "releasing authority (prison governor for the Secretary of State)"


class VictimPath(VictimTimeline):
    async def opt_in(self, action: OptIn) -> ActionResult:
        self.check_opt_in(action)
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

    def check_opt_in(self, action: OptIn) -> None:
        # A victim may opt in at any time while the sentence runs (domain.md 'Opt in or out').
        if self.state.stage is Stage.OPTED_IN:
            raise rejected(f"victim {self.params.victim_id} is already opted in")
        if self.state.stage is Stage.CLOSED:
            raise rejected(f"victim {self.params.victim_id}'s scheme has ended: the case is closed")

    async def opt_out(self, action: OptOut) -> ActionResult:
        self.check_opt_out(action)
        # A victim who says no is not contacted again unless they come back: no letter.
        closed = len(self.state.tasks)
        await self.tasks.close_all(action.by, "victim opted out")
        self._drop_held_letters()
        await self._set_stage(Stage.OPTED_OUT, "opted out", by=action.by, opted_out_on=today())
        return ActionResult(
            message=f"victim {self.params.victim_id} opted out: no letter sent, no further "
            f"contact unless they come back; {closed} open task(s) closed"
        )

    def check_opt_out(self, action: OptOut) -> None:
        if self.state.stage in (Stage.OPTED_OUT, Stage.CLOSED):
            raise rejected(
                f"victim {self.params.victim_id} cannot opt out: stage is {self.state.stage.value}"
            )

    async def submit_representations(self, action: SubmitRepresentations) -> ActionResult:
        self.check_representations(action)
        s = self.state
        # DVCVA s 35(5) licence conditions; on a hospital path, discharge conditions go to
        # whoever decides them (models/hospital.py: ss 37, 37A, 40, 43, 43A).
        decided_by = (
            LICENCE_DECIDED_BY if s.hospital is None else discharge_decider(s.hospital, today())
        )
        await step(
            CaseStoreActivities.forward_representations,
            ForwardRepresentations(
                idempotency_key=f"{self.key_prefix}:forward:{action.representation_id}",
                case_id=self.params.case_id,
                victim_id=self.params.victim_id,
                representation_id=action.representation_id,
                decided_by=decided_by,
                by=action.by,
            ),
            summary="forward representations",
            now=True,  # representations not the victim's refuse the action: nothing changes
        )
        s.representation_ids.append(action.representation_id)
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

    def check_representations(self, action: SubmitRepresentations) -> None:
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

    async def complete_task(self, action: CompleteTask) -> ActionResult:
        self.check_complete_task(action)
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

    def check_complete_task(self, action: CompleteTask) -> None:
        self.tasks.open_task_of(action.task_id, f"victim {self.params.victim_id}")

    # ---- queries --------------------------------------------------------------------------

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
