"""The way out of hospital on a case's hospital path (DVCVA 2004 ss 37-44A; the rules are
in models/hospital.py): the restriction lifted or varied, tribunal applications, and discharge.
Mixed into CaseWorkflow (workflows/case.py) on top of workflows/hospital.py."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.audit import AuditDetail
    from models.hospital import (
        RESTRICTION_NAMES,
        RecordDischarge,
        RecordRestrictionChange,
        RecordTribunalApplication,
        discharge_decider,
        discharge_problems,
        restriction_change_problems,
        tribunal_problems,
    )
    from models.messages import ActionResult
    from models.vocabulary import DischargeKind

from workflows.common import today
from workflows.hospital import HospitalCase, refuse_any


class HospitalDischarge(HospitalCase):
    """CaseWorkflow's hospital-path updates after the placement: restriction, tribunal,
    discharge."""

    # ---- restriction lifted or varied; tribunal applications (DVCVA s 37(4)-(7)) -------------

    @workflow.update
    async def record_restriction_change(self, action: RecordRestrictionChange) -> ActionResult:
        """The Secretary of State lifts the restriction (MHA 1983 s 42(1); DVCVA s 37(4)(a)) or
        the date it ceases changes (ss 41(3), 44(3)). Victims in the scheme are told (s 37(7));
        who decides discharge, so who gets representations, follows (s 37(3): the Secretary of
        State or the tribunal only while the restriction is in force)."""
        async with self._vlo_action():
            self._check_restriction_change(action)
            state = self._open_state()
            status = state.hospital
            assert status is not None
            ends = action.on if action.lifted else action.ends_on
            news = "restriction_lifted" if action.lifted else "restriction_varied"
            what = "lifted" if action.lifted else f"to end {ends}"
            name = RESTRICTION_NAMES[status.disposal]
            changed = status.model_copy(update={"restriction_ends_on": ends})
            await self._change_disposal(
                changed,
                f"{news}:{state.event_sequence + 1}",
                action.by,
                news,
                AuditDetail.of(on=action.on, lifted=action.lifted),
            )
            state.hospital = changed
            await self._broadcast(
                "hospital", hospital=state.hospital, on=action.on, hospital_news=news
            )
            decider = discharge_decider(state.hospital, today())
            return ActionResult(
                message=f"{name} {what}: victims in the scheme told; representations about "
                f"discharge now go to the {decider}"
            )

    @record_restriction_change.validator
    def _check_restriction_change(self, action: RecordRestrictionChange) -> None:
        state, status = self._patient("it has no restriction")
        refuse_any(
            restriction_change_problems(status, action, today()),
            "restriction",
            action.on,
            state.milestones.sentence_date,
        )

    @workflow.update
    async def record_tribunal_application(self, action: RecordTribunalApplication) -> ActionResult:
        """The tribunal tells the probation body the restricted patient's case is before it
        (DVCVA s 37(5); ss 40, 43): audited, and every victim in the scheme is told and invited
        to give views on discharge conditions (s 37(6)-(7)), forwarded while the restriction
        is in force (s 37(2)-(3))."""
        async with self._vlo_action():
            self._check_tribunal_application(action)
            state = self._open_state()
            await self._audit(
                "tribunal_application",
                action.by,
                AuditDetail.of(on=action.on),
            )
            await self._broadcast(
                "hospital",
                hospital=state.hospital,
                on=action.on,
                hospital_news="tribunal_application",
            )
            return ActionResult(
                message=f"tribunal application of {action.on} recorded for case "
                f"{self.params.case_ref}: victims in the scheme told and invited to give views "
                "on discharge conditions (DVCVA s 37(7))"
            )

    @record_tribunal_application.validator
    def _check_tribunal_application(self, action: RecordTribunalApplication) -> None:
        state, status = self._patient(
            "a prisoner's release is reviewed by the Parole Board: refer the case to the "
            "Parole Board, not the Mental Health Tribunal"
        )
        refuse_any(
            tribunal_problems(status, action.on),
            "tribunal application",
            action.on,
            state.milestones.sentence_date,
        )

    # ---- discharge ---------------------------------------------------------------------------

    @workflow.update
    async def record_discharge(self, action: RecordDischarge) -> ActionResult:
        """Discharge from hospital (ss 38, 38A, 41, 44, 44A: the victim is told). Conditions of
        discharge are recorded with record-conditions, and told as such. An absolute discharge
        ends the order, and with it the scheme: the case closes."""
        async with self._vlo_action():
            self._check_discharge(action)
            state = self._open_state()
            status = state.hospital
            assert status is not None
            state.event_sequence += 1
            await self._audit(
                "hospital_discharge",
                action.by,
                AuditDetail.of(kind=action.kind, hospital=status.hospital_id, on=action.on),
            )
            state.hospital = status.model_copy(
                update={"discharge": action.kind, "discharged_on": action.on}
            )
            await self._broadcast("hospital", hospital=state.hospital, on=action.on)
            if action.kind is DischargeKind.ABSOLUTE:
                await self._close(by=action.by)
                return ActionResult(
                    message=f"absolute discharge on {action.on} recorded: the order has ended; "
                    f"victims told; case {self.params.case_ref} closed"
                )
            return ActionResult(
                message=f"{action.kind.value} discharge on {action.on} recorded; victims told"
            )

    @record_discharge.validator
    def _check_discharge(self, action: RecordDischarge) -> None:
        state, status = self._patient("record the release instead")
        refuse_any(
            discharge_problems(status, action.kind, action.on),
            "discharge",
            action.on,
            state.milestones.sentence_date,
        )
