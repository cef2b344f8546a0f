"""A case's provider hand-offs (workflows/handoff_path.py runs each), every step an update of
the case's workflow naming the hand-off, and the key events a CRC reports
(workflows/case_crc.py): mixed into CaseWorkflow (workflows/case.py)."""

import contextlib
from datetime import date

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.handoff import HandoffStoreActivities
    from models.handoff import (
        BULK_ACTOR,
        HandoffAction,
        HandoffFinished,
        HandoffInput,
        HandoffStart,
        HandoffView,
        HandoffWithdrawal,
        RequestHandoff,
        Responsibility,
        ResponsibilityChange,
        WithdrawalReason,
    )
    from models.handoff_state import HandoffState
    from models.messages import ActionResult, CompleteTask
    from models.vocabulary import HandoffReason, HandoffStep, Provider, TaskKind

from workflows.case_crc import CaseCrcEvents
from workflows.common import rejected
from workflows.handoff_path import HandoffPath
from workflows.steps import call, written


class HandoffTask:
    """A hand-off's open task as the case's `complete_task` sees it (as it sees a review's):
    completing the supply task supplies the case information, the accept task accepts."""

    def __init__(self, case: "CaseHandoffs", path: HandoffPath) -> None:
        self.case, self.path = case, path

    def check_complete_task(self, action: CompleteTask) -> None:
        self.path.check_complete_task(action.task_id)

    async def complete_task(self, action: CompleteTask) -> ActionResult:
        if self.path.check_complete_task(action.task_id) is TaskKind.HANDOFF_SUPPLY:
            return await self.case._supply(self.path, action.by)
        return await self.case._accept(self.path, action.by)


class CaseHandoffs(CaseCrcEvents):
    def _responsibility(self) -> Responsibility:
        return Responsibility(
            provider=Provider(self.params.provider),
            region=self.params.region,
            vlo=self.responsible_vlo,
        )

    def _path(self, handoff: HandoffState) -> HandoffPath:
        return HandoffPath(handoff, workflow.info().workflow_id, self.params.policy.bank_holidays)

    def _open_path(self) -> HandoffPath | None:
        """The hand-off in progress, if any (a closed case's goes on until it ends)."""
        if self.state is None or self.state.handoff is None or self.state.open_handoff is None:
            return None
        return self._path(self.state.handoff)

    def _handoff(self, handoff_id: str) -> HandoffPath:
        """The case's latest hand-off, named."""
        if self.state is None:
            raise rejected(f"case {self.params.case_ref} is still starting: try again")
        handoff = self.state.handoff
        if handoff is None or handoff.handoff_id != handoff_id:
            raise rejected(
                f"{handoff_id} is not the latest hand-off of case {self.params.case_ref}"
            )
        return self._path(handoff)

    # ---- opening one -------------------------------------------------------------------------

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
            await self._open_handoff(start.registered(handoff_id))
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

    @workflow.update
    async def start_handoff(self, params: HandoffInput) -> ActionResult:
        """A hand-off registered by a bulk transfer (workflows/bulk_transfer.py): opened here,
        and, being a bulk's, supplied, accepted and switched at once; the bulk hears how it
        ended (`handoff_finished`)."""
        async with self._vlo_action():
            self._check_start_handoff(params)
            assert self.state is not None
            if self.state.handoff is None or self.state.handoff.handoff_id != params.handoff_id:
                await self._open_handoff(params)
            return ActionResult(message=f"hand-off {params.handoff_id} opened")

    @start_handoff.validator
    def _check_start_handoff(self, params: HandoffInput) -> None:
        state = self._open_state()
        if state.open_handoff not in (None, params.handoff_id):
            raise rejected(
                f"case {self.params.case_ref} already has hand-off {state.open_handoff} open"
            )

    async def _open_handoff(self, params: HandoffInput) -> None:
        state = self.state
        assert state is not None
        state.handoff, state.open_handoff = HandoffState(params=params), params.handoff_id
        path = self._path(state.handoff)
        path.note(f"requested by {params.requested_by}")
        if params.bulk_id is None:
            await path.open_step_task()
            return
        # A bulk transfer moves cases already agreed between providers: the steps are
        # recorded, by the engine, with no VLO work (003_532a1c7aa3a81105.txt).
        try:
            await path.supplied(BULK_ACTOR)
            change = await path.accepted(BULK_ACTOR)
        except ActivityError:
            # It cannot finish (the database refused a step): recorded as failed, nothing
            # switches, and the case is free for another hand-off; unless the switch was
            # written and only its answer lost: then the case switches as the row says.
            await path.withdrawn(BULK_ACTOR, WithdrawalReason.HANDOFF_FAILED)
            if path.state.step is HandoffStep.SWITCHED:  # the row says the switch was made
                await self._switch(path.change(BULK_ACTOR))
        else:
            await self._switch(change)
        await self._handoff_over(path)

    # ---- its steps ---------------------------------------------------------------------------

    @workflow.update
    async def handoff_supply(self, action: HandoffAction) -> ActionResult:
        async with self._vlo_action():
            path = self._handoff(action.handoff_id)
            path.check_supply()
            return await self._supply(path, action.by)

    @handoff_supply.validator
    def _check_handoff_supply(self, action: HandoffAction) -> None:
        self._handoff(action.handoff_id).check_supply()

    async def _supply(self, path: HandoffPath, by: str) -> ActionResult:
        await path.supplied(by)
        return ActionResult(
            message=f"{path.handoff_id}: case information supplied; "
            f"{path.params.receiver.vlo} to accept by {path.state.step_due}"
        )

    @workflow.update
    async def handoff_accept(self, action: HandoffAction) -> ActionResult:
        async with self._vlo_action():
            path = self._handoff(action.handoff_id)
            path.check_accept()
            return await self._accept(path, action.by)

    @handoff_accept.validator
    def _check_handoff_accept(self, action: HandoffAction) -> None:
        self._handoff(action.handoff_id).check_accept()

    async def _accept(self, path: HandoffPath, by: str) -> ActionResult:
        await self._switch(await path.accepted(by))
        await self._handoff_over(path)
        return ActionResult(
            message=f"{path.handoff_id}: accepted; case {self.params.case_ref} is now with "
            f"{path.params.receiver.describe()}"
        )

    @workflow.update
    async def handoff_withdraw(self, action: HandoffWithdrawal) -> ActionResult:
        async with self._vlo_action():
            path = self._handoff(action.handoff_id)
            path.check_withdraw(action.reason)
            await path.withdrawn(action.by, action.reason)
            await self._handoff_over(path)
            return ActionResult(
                message=f"{path.handoff_id} withdrawn ({action.reason.value}): case "
                f"{self.params.case_ref} stays with {path.params.sender.describe()}; its "
                "hand-off tasks are closed"
            )

    @handoff_withdraw.validator
    def _check_handoff_withdraw(self, action: HandoffWithdrawal) -> None:
        self._handoff(action.handoff_id).check_withdraw(action.reason)

    def _task_handoff(self, task_id: int) -> HandoffTask | None:
        """The hand-off holding this task open, if one does."""
        path = self._open_path()
        return HandoffTask(self, path) if path and task_id in path.state.open_task_ids else None

    async def _switch(self, change: ResponsibilityChange) -> None:
        """The receiving provider accepted: this case and every victim switch, and every open
        task moves to the new VLO with its due date (domain.md: nothing dropped)."""
        receiver = change.receiver
        self.responsible_vlo = receiver.vlo
        self.params.provider, self.params.region = receiver.provider.value, receiver.region
        await self.tasks.hand_over(change)
        for victim in self.victims.values():
            await victim.hand_over(change)
        # Every parole review still running (open, or decided and taking summary requests)
        # moves its tasks too; an ended one has none.
        for review in self._running_reviews():
            await review.hand_over(change)

    async def _handoff_over(self, path: HandoffPath) -> None:
        """Once it has ended the case may have another; a bulk transfer hears how it ended."""
        assert self.state is not None
        if not path.ended():
            return
        self.state.open_handoff = None
        p = path.params
        if p.notify_workflow_id is None:
            return
        finished = HandoffFinished(
            handoff_id=p.handoff_id,
            case_ref=p.case_ref,
            switched=path.state.step is HandoffStep.SWITCHED,
            withdrawn=path.state.withdrawn_reason not in (None, WithdrawalReason.HANDOFF_FAILED),
        )
        await written()  # the bulk counts what is in the database
        with contextlib.suppress(Exception):  # the bulk has finished: nothing waits for it
            await workflow.get_external_workflow_handle(p.notify_workflow_id).signal(
                "handoff_finished", finished
            )

    # ---- service levels (the case's one timer) ---------------------------------------------

    def _handoff_next_wake(self) -> date | None:
        path = self._open_path()
        return path.next_wake() if path is not None else None

    async def _handoff_time_passing(self) -> None:
        path = self._open_path()
        if path is not None:
            await path.escalate_overdue()

    @workflow.query
    def handoff_view(self, handoff_id: str) -> HandoffView:
        return self._handoff(handoff_id).view()
