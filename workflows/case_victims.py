"""The victims of a case, held inside its workflow: each victim's path (workflows/victim_path.py)
is plain state the case drives. What happens on the case reaches every victim by a direct call
(no signal between workflows, so no seam where a letter can cross an event); a VLO's action for
one victim is an update on the case naming the victim. Mixed into CaseWorkflow."""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from models.delivery import LetterUndelivered
    from models.hospital import NotifyHospital
    from models.ids import victim_key
    from models.messages import (
        ActionResult,
        AddVictims,
        CompleteTask,
        OptIn,
        OptOut,
        SubmitRepresentations,
        VictimAdded,
        VictimView,
    )
    from models.policy import Policy
    from models.workflow_state import CaseEvent, VictimInput, VictimState

from workflows.case_host import CaseHost
from workflows.common import rejected, renewed
from workflows.steps import call
from workflows.victim_path import VictimPath
from workflows.victim_timeline import OFFER_TASK


class CaseVictims(CaseHost):
    """The case's victims: one path each, in `state.victims` (carried across continue-as-new)."""

    victims: dict[int, VictimPath]

    def _victim_path(self, victim_id: int, state: VictimState | None) -> VictimPath:
        case = self.state
        assert case is not None
        params = VictimInput(
            case_ref=self.params.case_ref,
            case_id=self.case_id,
            victim_id=victim_id,
            responsible_vlo=self.responsible_vlo,
            provider=self.params.provider,
            region=self.params.region,
            policy=self.params.policy,
            milestones=case.milestones,
            conditions=case.conditions,
            hospital=case.hospital,
            state=state,
        )
        return VictimPath(
            params,
            owner_id=workflow.info().workflow_id,
            key_prefix=victim_key(self.params.case_ref, victim_id),
        )

    def _take_policy(self, policy: Policy) -> None:
        """The case's policy (its calendar renewed), for the case and every victim."""
        self.params.policy = policy
        self.tasks.policy = policy
        for path in self.victims.values():
            path.params.policy = path.tasks.policy = policy
        for review in self.reviews.values():
            review.params.policy = review.tasks.policy = policy

    def _take_victims(self) -> None:
        """The victims this run carries (a run continued as new)."""
        assert self.state is not None
        self.victims = {
            victim_id: self._victim_path(victim_id, self.state.victims[victim_id])
            for victim_id in self.state.victim_ids
        }

    async def _add_victims(self, victim_ids: list[int]) -> None:
        """Each victim new to the case starts their path: identified, the offer task open.
        Their deadlines count over the case's calendar, renewed first if it is running out
        (a victim added late in a long case)."""
        assert self.state is not None
        if any(victim_id not in self.victims for victim_id in victim_ids):
            self._take_policy(await renewed(self.params.policy))
        for victim_id in victim_ids:
            if victim_id in self.victims:
                continue
            path = self._victim_path(victim_id, None)
            self.victims[victim_id] = path
            self.state.victims[victim_id] = path.state
            self.state.victim_ids.append(victim_id)
            await path.identify()

    def _added(self, victim_ids: list[int]) -> list[VictimAdded]:
        answers = []
        for victim_id in victim_ids:
            offer = self.victims[victim_id].tasks.by_key(OFFER_TASK)
            answers.append(
                VictimAdded(
                    victim_id=victim_id,
                    offer_task_id=offer.task_id if offer else None,
                    offer_due=offer.due_on if offer else None,
                )
            )
        return answers

    async def _tell_victims(self, event: CaseEvent) -> None:
        """What happened on the case, told to each victim's path in turn."""
        for victim_id in list(self.victims):
            await self.victims[victim_id].on_case_event(event)

    def _victims_next_wake(self) -> list[date | None]:
        return [path.next_wake() for path in self.victims.values() if not path.closed()]

    async def _victims_time_passing(self) -> None:
        for path in list(self.victims.values()):
            if not path.closed():
                await path.on_time_passing()

    def _victims_closed(self) -> bool:
        """Every victim's part has ended, and every letter held for them has gone."""
        return all(path.closed() for path in self.victims.values())

    def _victim(self, victim_id: int) -> VictimPath:
        if self.state is None:
            raise rejected(f"case {self.params.case_ref} is still starting: try again")
        path = self.victims.get(victim_id)
        if path is None:
            raise rejected(f"victim {victim_id} is not a victim of case {self.params.case_ref}")
        return path

    def _task_victim(self, action: CompleteTask) -> VictimPath | None:
        """The victim whose task this is: the one named, else the one holding it open."""
        if action.victim_id is not None:
            return self._victim(action.victim_id)
        return next((p for p in self.victims.values() if p.tasks.find(action.task_id)), None)

    def _victim_due_dates(self) -> list[date]:
        return [t.due_on for path in self.victims.values() for t in path.state.tasks]

    def _victim_stages(self) -> str:
        stages: dict[str, int] = {}
        for path in self.victims.values():
            stages[path.state.stage.value] = stages.get(path.state.stage.value, 0) + 1
        return ", ".join(f"{count} {stage}" for stage, count in sorted(stages.items()))

    # ---- VLO actions for one victim ---------------------------------------------------------

    @workflow.update
    async def add_victims(self, action: AddVictims) -> list[VictimAdded]:
        await workflow.wait_condition(lambda: self.state is not None)
        async with self._vlo_action():
            self._open_state()
            if action.victim_ids:
                # Each is a victim of this case (a data error, refused at once, if not).
                await call(CaseStoreActivities.victims_of_case, self.case_id, action.victim_ids)
                await self._add_victims(action.victim_ids)
            return self._added(action.victim_ids)

    @add_victims.validator
    def _check_add_victims(self, action: AddVictims) -> None:
        if self.state is not None and self.state.closed:
            raise rejected(f"case {self.params.case_ref} is closed")
        if len(set(action.victim_ids)) != len(action.victim_ids):
            raise rejected("the same victim is listed twice")

    @workflow.update
    async def opt_in(self, action: OptIn) -> ActionResult:
        async with self._vlo_action():
            return await self._victim(action.victim_id).opt_in(action)

    @opt_in.validator
    def _check_opt_in(self, action: OptIn) -> None:
        self._victim(action.victim_id).check_opt_in(action)

    @workflow.update
    async def opt_out(self, action: OptOut) -> ActionResult:
        async with self._vlo_action():
            result = await self._victim(action.victim_id).opt_out(action)
            # An open Parole Board review closes this victim's tasks too (workflows/case.py).
            await self._victim_left(action.victim_id)
            return result

    @opt_out.validator
    def _check_opt_out(self, action: OptOut) -> None:
        self._victim(action.victim_id).check_opt_out(action)

    @workflow.update
    async def submit_representations(self, action: SubmitRepresentations) -> ActionResult:
        async with self._vlo_action():
            return await self._victim(action.victim_id).submit_representations(action)

    @submit_representations.validator
    def _check_representations(self, action: SubmitRepresentations) -> None:
        self._victim(action.victim_id).check_representations(action)

    @workflow.update
    async def notify_hospital(self, action: NotifyHospital) -> ActionResult:
        async with self._vlo_action():
            return await self._victim(action.victim_id).notify_hospital(action)

    @notify_hospital.validator
    def _check_notify_hospital(self, action: NotifyHospital) -> None:
        self._victim(action.victim_id).check_notify_hospital(action)

    @workflow.signal
    async def letter_undelivered(self, notice: LetterUndelivered) -> None:
        """The delivery-status job found a victim's email or text failed (workflows/delivery.py):
        a task for the VLO to reach them another way, in the review that sent it if one did."""
        async with self._vlo_action():
            review = self.reviews.get(notice.holder)
            if review is not None:
                await review.undelivered(notice)
                return
            path = self.victims.get(notice.victim_id)
            if path is not None:
                await path.undelivered(notice.kind, notice.key)

    @workflow.query
    def victim_view(self, victim_id: int) -> VictimView:
        return self._victim(victim_id).view()

    @workflow.query
    def victim_views(self) -> list[VictimView]:
        """Every victim the case holds, in one answer (the console's case page)."""
        return [path.view() for path in self.victims.values()]
