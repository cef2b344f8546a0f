"""The hospital paths in the case and victim workflows (DVCVA 2004 ss 36-44A; the rules and
their sources are in models/hospital.py and models/eligibility.py).

The case carries a HospitalStatus while the offender is a patient (None on the custodial path)
and tells every victim's workflow when it changes: placed in or moved to a hospital, transferred
from prison (KeyStage TRANSFER_TO_HOSPITAL), remitted to prison, discharged. The victims'
workflows carry on as they are, keeping their stage, contact level and history; only what they
are owed changes with the path.

Mixed into CaseWorkflow (leaving hospital: workflows/hospital_discharge.py; a victim's side:
workflows/victim_hospital.py); the custodial path issues no command from here.
"""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.hospital import HospitalActivities
    from models.audit import AuditDetail
    from models.hospital import (
        REMITTABLE,
        DisposalChange,
        RecordHospital,
        RecordRemission,
        RecordTransferToHospital,
        notice_basis,
        record_hospital_due,
    )
    from models.key_stages import key_stage_problem
    from models.key_stages import record as note_key_stage
    from models.messages import ActionResult
    from models.vocabulary import DischargeKind, DisposalKind, KeyStage, TaskKind
    from models.workflow_state import CaseState, HospitalStatus

from workflows.case_host import CaseHost
from workflows.common import rejected, today
from workflows.steps import step

RECORD_HOSPITAL_TASK = "record-hospital"


def refuse_any(problems: list[str], what: str, on: date, sentence_date: date) -> None:
    """Refuse the update with every problem found, the date's among them (not in the future,
    not before the sentence or order)."""
    found = list(problems)
    if on > today():
        found.append(f"{what} date {on} is in the future")
    elif on < sentence_date:
        found.append(f"{what} date {on} is before the sentence or order of {sentence_date}")
    if found:
        raise rejected("; ".join(found))


class HospitalCase(CaseHost):
    """CaseWorkflow's hospital-path updates."""

    def _patient(self, instead: str) -> tuple[CaseState, HospitalStatus]:
        """The open case and its hospital status, for an update only a patient's case takes;
        a case on the custodial path is refused with what to do `instead`."""
        state = self._open_state()
        if state.hospital is None:
            raise rejected(f"case {self.params.case_ref} is on the custodial path: {instead}")
        return state, state.hospital

    def _take_hospital_status(self, status: HospitalStatus | None) -> None:
        """The status the case was registered with (models/hospital.py status_of)."""
        assert self.state is not None
        self.state.hospital = status
        self.state.hospital_placements = status.placement if status else 0

    async def _ask_for_hospital(self) -> None:
        """A hospital order or transfer direction registered without its hospital: the VLO must
        record it, since the hospital managers are to be notified (DVCVA s 36A / s 42A)."""
        assert self.state is not None
        status = self.state.hospital
        if status is None or status.hospital_id is not None or notice_basis(status) is None:
            return
        await self.tasks.open(
            RECORD_HOSPITAL_TASK,
            TaskKind.RECORD_HOSPITAL,
            "Record the hospital named in the order: the hospital managers must be notified "
            "(DVCVA s 36A / s 42A)",
            record_hospital_due(today(), self.params.policy.bank_holidays),
        )

    def _workflow_key(self, key: str) -> str:
        return f"{workflow.info().workflow_id}:{key}"

    async def _change_disposal(
        self, to: HospitalStatus | None, key: str, by: str, news: str, detail: AuditDetail
    ) -> None:
        """Write the case's new disposal, restriction and hospital (None: back on the custodial
        path), audited as `news` with `detail` (the activity adds the new disposal)."""
        await step(
            HospitalActivities.change_disposal,
            DisposalChange(
                idempotency_key=self._workflow_key(key),
                case_id=self.case_id,
                disposal=DisposalKind.CUSTODIAL if to is None else to.disposal,
                restricted=False if to is None else to.restricted,
                restriction_ends_on=None if to is None else to.restriction_ends_on,
                hospital_id=None if to is None else to.hospital_id,
                by=by,
                action=news,
                detail=detail,
            ),
            summary=news.replace("_", " "),
            now=True,  # an unknown hospital refuses the action: nothing changes
        )

    # ---- placed in, moved to or readmitted to a hospital -------------------------------------

    @workflow.update
    async def record_hospital(self, action: RecordHospital) -> ActionResult:
        """The patient is detained in this hospital: first recorded, moved, or readmitted after
        a discharge. The hospital managers are notified again (s 36A / s 42A continuing duty)."""
        async with self._vlo_action():
            self._check_record_hospital(action)
            state = self._open_state()
            status = state.hospital
            assert status is not None
            what = (
                "readmitted to"
                if status.discharge is not None
                else "moved to"
                if status.hospital_id is not None
                else "detained in"
            )
            placement = state.hospital_placements + 1
            placed = status.model_copy(
                update={
                    "hospital_id": action.hospital_id,
                    "placement": placement,
                    "discharge": None,
                    "discharged_on": None,
                }
            )
            await self._change_disposal(
                placed,
                f"hospital:{placement}",
                action.by,
                "hospital_recorded",
                AuditDetail.of(on=action.on, placement=placement),
            )
            state.hospital_placements = placement
            state.hospital = placed
            await self.tasks.close(RECORD_HOSPITAL_TASK, action.by, "hospital recorded")
            await self._broadcast("hospital", hospital=state.hospital, on=action.on)
            basis = notice_basis(status)
            told = (
                f"; the hospital managers are notified of every victim in the scheme ({basis})"
                if basis
                else ""
            )
            return ActionResult(
                message=f"patient {what} hospital {action.hospital_id} on {action.on}{told}"
            )

    @record_hospital.validator
    def _check_record_hospital(self, action: RecordHospital) -> None:
        state, status = self._patient(
            "record a prisoner's move to hospital as a transfer to hospital, with its "
            "transfer direction"
        )
        ref = self.params.case_ref
        if status.discharge is DischargeKind.ABSOLUTE:
            raise rejected(
                f"the patient of case {ref} was absolutely discharged on {status.discharged_on}"
            )
        if status.hospital_id == action.hospital_id and status.discharge is None:
            raise rejected(f"the patient of case {ref} is already in hospital {action.hospital_id}")
        refuse_any([], "hospital", action.on, state.milestones.sentence_date)

    # ---- prison to hospital, hospital to prison ---------------------------------------------

    @workflow.update
    async def record_transfer_to_hospital(self, action: RecordTransferToHospital) -> ActionResult:
        """KeyStage TRANSFER_TO_HOSPITAL with a transfer direction (MHA 1983 s 47): the case
        moves to the DVCVA s 42 path (ss 43-44 with a restriction direction, ss 43A-44A
        without). Victims are told the key stage as any key stage, and those in the scheme get
        the s 42A notices; their choices and history stay as they are."""
        async with self._vlo_action():
            self._check_transfer_to_hospital(action)
            state = self._open_state()
            placement = state.hospital_placements + 1
            restriction = " with a restriction direction (MHA s 49)" if action.restricted else ""
            transferred = HospitalStatus(
                disposal=DisposalKind.TRANSFER_DIRECTION,
                restricted=action.restricted,
                restriction_ends_on=action.restriction_ends_on,
                hospital_id=action.hospital_id,
                placement=placement,
            )
            await self._change_disposal(
                transferred,
                f"transfer:{placement}",
                action.by,
                "transferred_to_hospital",
                AuditDetail.of(on=action.on, placement=placement),
            )
            state.hospital_placements = placement
            state.hospital = transferred
            note_key_stage(state, KeyStage.TRANSFER_TO_HOSPITAL, action.on)
            await self._broadcast(
                "key_stage", key_stage=KeyStage.TRANSFER_TO_HOSPITAL, on=action.on
            )
            await self._broadcast("hospital", hospital=state.hospital, on=action.on)
            return ActionResult(
                message=f"transfer to hospital {action.hospital_id} on {action.on} recorded"
                f"{restriction}: case {self.params.case_ref} is on the DVCVA s 42 path; victims "
                "told and the hospital managers notified (s 42A)"
            )

    @record_transfer_to_hospital.validator
    def _check_transfer_to_hospital(self, action: RecordTransferToHospital) -> None:
        state = self._open_state()
        ref = self.params.case_ref
        if state.hospital is not None:
            raise rejected(
                f"case {ref} is already on a hospital path ({state.hospital.path.value}): record "
                "a move between hospitals as the hospital the patient is in"
            )
        problem = key_stage_problem(state, KeyStage.TRANSFER_TO_HOSPITAL, action.on, today())
        if problem:
            raise rejected(problem)
        ends = action.restriction_ends_on
        if ends is not None and not action.restricted:
            raise rejected("a restriction end date is given but no restriction direction")
        if ends is not None and ends <= action.on:
            raise rejected(f"the restriction direction ends {ends}, not after the transfer")

    @workflow.update
    async def record_remission(self, action: RecordRemission) -> ActionResult:
        """Remitted to prison (MHA 1983 s 50): back on the custodial path (DVCVA s 35; s 39(3)(c)
        for a hospital direction). Victims keep their choices; those in the scheme are told."""
        async with self._vlo_action():
            self._check_remission(action)
            state = self._open_state()
            status = state.hospital
            assert status is not None
            await self._change_disposal(
                None,
                f"remission:{state.hospital_placements}",
                action.by,
                "remitted_to_prison",
                AuditDetail.of(on=action.on, was=status.disposal),
            )
            state.hospital = None
            await self._broadcast("hospital", hospital=None, on=action.on)
            return ActionResult(
                message=f"remission to prison on {action.on} recorded: case "
                f"{self.params.case_ref} is back on the custodial path; victims told"
            )

    @record_remission.validator
    def _check_remission(self, action: RecordRemission) -> None:
        state, status = self._patient("there is no hospital to leave")
        ref = self.params.case_ref
        if status.disposal not in REMITTABLE:
            raise rejected(
                f"case {ref} is a hospital order (MHA 1983 s 37), not a sentence: the patient "
                "cannot be remitted to prison (MHA 1983 s 50); record a discharge instead"
            )
        if status.discharge is DischargeKind.ABSOLUTE:
            raise rejected(f"the patient was absolutely discharged on {status.discharged_on}")
        refuse_any([], "remission", action.on, state.milestones.sentence_date)
