"""A case's provider hand-offs (workflows/handoff.py runs each) and the key events a CRC
reports: mixed into CaseWorkflow (workflows/case.py)."""

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_store import CaseStoreActivities
    from activities.handoff import HandoffStarterActivities, HandoffStoreActivities
    from models.audit import AuditDetail
    from models.handoff import (
        HandoffOpened,
        HandoffPolicy,
        HandoffStart,
        HandoffWithdrawn,
        ReportCrcEvent,
        RequestHandoff,
        Responsibility,
        ResponsibilityChange,
    )
    from models.messages import (
        ActionResult,
        AuditRecord,
        CaseInput,
        CaseState,
    )
    from models.vocabulary import HandoffReason, Provider, TaskKind
    from models.working_days import add_working_days

from workflows.common import (
    rejected,
    today,
)
from workflows.review_steps import ReviewSteps
from workflows.steps import call
from workflows.tasks import TaskBook
from workflows.victim_path import VictimPath


class CaseHandoffs:
    if TYPE_CHECKING:
        state: CaseState | None
        params: CaseInput
        case_id: int
        responsible_vlo: str
        victims: dict[int, VictimPath]

        @property
        def tasks(self) -> TaskBook: ...

        def _vlo_action(self) -> AbstractAsyncContextManager[None]: ...

        def _open_state(self) -> CaseState: ...

        async def _audit(
            self, action: str, by: str, detail: AuditDetail, note: str = ""
        ) -> None: ...

        async def _broadcast(self, kind: str, **fields: object) -> None: ...

        def _running_reviews(self) -> list[ReviewSteps]: ...

    # ---- provider hand-offs (workflows/handoff.py) -------------------------------------------

    def _responsibility(self) -> Responsibility:
        return Responsibility(
            provider=Provider(self.params.provider),
            region=self.params.region,
            vlo=self.responsible_vlo,
        )

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
            await call(
                HandoffStarterActivities.start_handoff_workflow,
                start.registered(handoff_id),
                summary="start hand-off",
            )
            state.open_handoff = handoff_id
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

    @workflow.signal
    def handoff_opened(self, opened: HandoffOpened) -> None:
        """A hand-off started (by a VLO here, or by a bulk transfer): no second one meanwhile."""
        if self.state is not None and self.state.open_handoff is None:
            self.state.open_handoff = opened.handoff_id

    @workflow.signal
    def handoff_withdrawn(self, withdrawn: HandoffWithdrawn) -> None:
        """The open hand-off was withdrawn (by a VLO, refused by the receiver, or failed):
        nothing switched, and the case may have another hand-off."""
        if self.state is not None and self.state.open_handoff == withdrawn.handoff_id:
            self.state.open_handoff = None

    @workflow.signal
    async def handoff_switched(self, change: ResponsibilityChange) -> None:
        """The receiving provider accepted: this case and every victim switch, and
        every open task moves to the new VLO with its due date (domain.md: nothing dropped)."""
        await workflow.wait_condition(lambda: self.state is not None)
        async with self._vlo_action():
            state = self.state
            assert state is not None
            receiver = change.receiver
            self.responsible_vlo = receiver.vlo
            self.params.provider, self.params.region = receiver.provider.value, receiver.region
            if state.open_handoff == change.handoff_id:
                state.open_handoff = None
            await self.tasks.hand_over(change)
            for path in self.victims.values():
                await path.hand_over(change)
            # Every parole review still running (open, or decided and taking summary
            # requests) moves its tasks too; an ended one has none.
            for review in self._running_reviews():
                await review.hand_over(change)

    @workflow.update
    async def report_crc_event(self, action: ReportCrcEvent) -> ActionResult:
        """000_5a1d5e000983110f.txt ('Victims'): CRCs are contractually required to support the
        NPS by giving its staff key information about offenders, so the VLO can tell victims.
        Each report is a task for the VLO; a report after the agreed time is recorded as late."""
        async with self._vlo_action():
            self._check_crc_event(action)
            state = self._open_state()
            policy = HandoffPolicy()
            reported_on = today()
            calendar = self.params.policy.bank_holidays
            report_due = add_working_days(
                action.occurred_on, policy.crc_report_working_days, calendar
            )
            late = reported_on > report_due
            due = add_working_days(reported_on, policy.crc_action_working_days, calendar)
            state.crc_events.append((action.kind.value, action.occurred_on))
            key = f"crc-{action.kind.value}-{action.occurred_on}"
            lateness = f"LATE (due by {report_due})" if late else "on time"
            await call(
                CaseStoreActivities.record_audit,
                AuditRecord(
                    idempotency_key=f"{workflow.info().workflow_id}:{key}",
                    case_id=self.case_id,
                    actor=action.by,
                    action="crc_event_reported_late" if late else "crc_event_reported",
                    detail=AuditDetail.of(
                        event=action.kind,
                        occurred_on=action.occurred_on,
                        reported_on=reported_on,
                        report_due=report_due,
                    ),
                ),
                summary="crc event reported",
            )
            task = await self.tasks.open(
                key,
                TaskKind.CRC_EVENT,
                f"CRC reported {action.kind.value} of {action.occurred_on} ({lateness}): "
                "tell victims as needed",
                due,
            )
            return ActionResult(
                message=f"{action.kind.value} of {action.occurred_on} reported {lateness}; "
                f"task {task.task_id} for {self.responsible_vlo} due {due}"
            )

    @report_crc_event.validator
    def _check_crc_event(self, action: ReportCrcEvent) -> None:
        state = self._open_state()
        ref = self.params.case_ref
        if self.params.provider != Provider.CRC.value:
            raise rejected(
                f"case {ref} is supervised by {self.params.provider}: only a CRC-supervised "
                "case reports events to the NPS VLO"
            )
        if action.occurred_on > today():
            raise rejected(f"{action.kind.value} date {action.occurred_on} is in the future")
        if action.occurred_on < state.milestones.sentence_date:
            raise rejected(f"{action.kind.value} date {action.occurred_on} is before the sentence")
        if (action.kind.value, action.occurred_on) in state.crc_events:
            raise rejected(f"{action.kind.value} of {action.occurred_on} is already reported")
