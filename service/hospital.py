"""Hospital paths (DVCVA 2004 ss 36-44A; models/hospital.py, workflows/hospital.py)."""

from datetime import date

from models.case_repository import path_change_decision
from models.errors import VcsError
from models.hospital import (
    HospitalBase,
    NotifyHospital,
    RecordDischarge,
    RecordHospital,
    RecordRemission,
    RecordRestrictionChange,
    RecordTransferToHospital,
    RecordTribunalApplication,
)
from models.hospital_repository import add_hospital, hospital_by_id
from models.messages import (
    ActionResult,
)
from models.vocabulary import (
    DischargeKind,
    DisposalKind,
)
from service.access import Action
from service.actor import Actor
from service.queries import checked
from service.temporal import ServiceBase
from workflows.case import CaseWorkflow, case_workflow_id


class HospitalActions(ServiceBase):
    def add_hospital(self, hospital: HospitalBase, actor: Actor) -> tuple[int, bool]:
        checked(self.engine, actor, Action.RECORD_HOSPITAL_STEP)
        row, created = add_hospital(self.engine, hospital, actor.id)
        assert row.id is not None
        return row.id, created

    async def record_hospital(
        self, case_ref: str, hospital_id: int, on: date, actor: Actor
    ) -> ActionResult:
        """The patient is detained in (moved to, readmitted to) this hospital."""
        self._case(actor, Action.RECORD_HOSPITAL_STEP, case_ref)
        hospital_by_id(self.engine, hospital_id)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_hospital,
            RecordHospital(hospital_id=hospital_id, on=on, by=actor.id),
        )

    async def record_transfer_to_hospital(
        self,
        case_ref: str,
        hospital_id: int,
        on: date,
        restricted: bool,
        restriction_ends_on: date | None,
        actor: Actor,
    ) -> ActionResult:
        """A prisoner transferred to hospital (MHA 1983 s 47): the case moves to the DVCVA s 42
        path if it is eligible for it (explained otherwise, and nothing changes)."""
        self._case(actor, Action.RECORD_HOSPITAL_STEP, case_ref)
        hospital_by_id(self.engine, hospital_id)
        decision = path_change_decision(
            self.engine, case_ref, DisposalKind.TRANSFER_DIRECTION, restricted
        )
        if not decision.eligible:
            raise VcsError(
                f"case {case_ref} cannot move to the DVCVA s 42 path: {decision.explain()}"
            )
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_transfer_to_hospital,
            RecordTransferToHospital(
                hospital_id=hospital_id,
                on=on,
                restricted=restricted,
                restriction_ends_on=restriction_ends_on,
                by=actor.id,
            ),
        )

    async def record_remission(self, case_ref: str, on: date, actor: Actor) -> ActionResult:
        self._case(actor, Action.RECORD_HOSPITAL_STEP, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_remission,
            RecordRemission(on=on, by=actor.id),
        )

    async def record_discharge(
        self, case_ref: str, kind: DischargeKind, on: date, actor: Actor
    ) -> ActionResult:
        self._case(actor, Action.RECORD_HOSPITAL_STEP, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_discharge,
            RecordDischarge(kind=kind, on=on, by=actor.id),
        )

    async def record_restriction_change(
        self,
        case_ref: str,
        on: date,
        actor: Actor,
        *,
        lifted: bool = False,
        ends_on: date | None = None,
    ) -> ActionResult:
        """DVCVA s 37(4), (7): a restriction lifted on `on`, or its end date varied."""
        self._case(actor, Action.RECORD_HOSPITAL_STEP, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_restriction_change,
            RecordRestrictionChange(on=on, lifted=lifted, ends_on=ends_on, by=actor.id),
        )

    async def record_tribunal_application(
        self, case_ref: str, on: date, actor: Actor
    ) -> ActionResult:
        """DVCVA s 37(5), (7): a restricted patient's case before the Mental Health Tribunal."""
        self._case(actor, Action.RECORD_HOSPITAL_STEP, case_ref)
        return await self._update(
            case_workflow_id(case_ref),
            CaseWorkflow.record_tribunal_application,
            RecordTribunalApplication(on=on, by=actor.id),
        )

    async def notify_hospital(self, victim_id: int, actor: Actor) -> ActionResult:
        return await self._update(
            self._victim(actor, Action.RECORD_HOSPITAL_STEP, victim_id),
            CaseWorkflow.notify_hospital,
            NotifyHospital(victim_id=victim_id, by=actor.id),
        )
