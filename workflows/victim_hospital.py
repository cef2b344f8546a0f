"""A victim's part in the hospital paths (DVCVA 2004 ss 36-44A; the rules and their sources are
in models/hospital.py): the s 36A / s 42A notices to the hospital managers, the hospital's details,
news of a discharge, a remission or a change to the restriction, told as the case's hospital
status changes (workflows/hospital.py holds the case's side). Plain code, no workflow of its own.
"""

from datetime import date
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.hospital import HospitalActivities
    from models.hospital import (
        HospitalNoticeOutcome,
        HospitalNoticeRequest,
        NotifyHospital,
        notice_basis,
    )
    from models.messages import ActionResult
    from models.release_month import ReleaseMonth
    from models.sharing import LawfulBasis
    from models.vocabulary import DischargeKind, LetterKind, Stage
    from models.workflow_state import CaseEvent, VictimInput, VictimState

from workflows.common import ENGINE_ACTOR, rejected, today
from workflows.steps import call
from workflows.tasks import TaskBook

HOSPITAL_NEWS_LETTERS = {
    "restriction_lifted": LetterKind.RESTRICTION_LIFTED,
    "restriction_varied": LetterKind.RESTRICTION_VARIED,
    "tribunal_application": LetterKind.TRIBUNAL_APPLICATION,
}


class HospitalVictim:
    """A victim's hospital-path duties (mixed into workflows/victim_timeline.py)."""

    if TYPE_CHECKING:
        state: VictimState
        params: VictimInput
        tasks: TaskBook
        key_prefix: str

        async def _letter(self, kind: LetterKind, key: str, **fields: object) -> None: ...

        def _hold(
            self,
            kind: LetterKind,
            key: str,
            month_of: date,
            release_on: date | None = None,
            discharge: DischargeKind | None = None,
            restriction_ends_on: date | None = None,
            condition_ids: list[int] | None = None,
        ) -> None: ...

    def _hospital_notice(
        self,
        key: str,
        basis: LawfulBasis,
        reason: str,
        by: str,
        representation_ids: list[int],
        with_address: bool,
    ) -> HospitalNoticeRequest:
        status = self.state.hospital
        assert status is not None and status.hospital_id is not None
        return HospitalNoticeRequest(
            idempotency_key=f"{self.key_prefix}:hospital-notice:{key}",
            case_id=self.params.case_id,
            victim_id=self.params.victim_id,
            hospital_id=status.hospital_id,
            basis=basis,
            representation_ids=representation_ids,
            with_address=with_address,
            by=by,
            reason=reason,
        )

    async def _notify_hospital(
        self,
        key: str,
        basis: LawfulBasis,
        reason: str,
        by: str,
        representation_ids: list[int],
        with_address: bool = True,
    ) -> HospitalNoticeOutcome:
        """DVCVA s 36A / s 42A: the hospital managers get the victim's name, address and
        representations; recorded as a Disclosure, exactly once per key. A stale notice (the
        case has moved on: a newer hospital event is on its way here) is not made nor noted."""
        outcome: HospitalNoticeOutcome = await call(
            HospitalActivities.notify_hospital_managers,
            self._hospital_notice(key, basis, reason, by, representation_ids, with_address),
            summary="notify hospital managers",
        )
        if outcome.sent:
            self.state.hospital_notices.append(key)
        return outcome

    async def _hospital_duties(self) -> None:
        """What an opted-in victim on a hospital path is owed by now (called from _catch_up):
        the s 36A / s 42A notices for the current hospital, and news of a discharge. Only for
        the latest hospital state: the case tells each victim of a hospital change as it
        records it (workflows/case_victims.py), so a hospital the patient has left never gets
        the victim's name and address."""
        s, status = self.state, self.state.hospital
        if status is None or s.stage is not Stage.OPTED_IN:
            return
        basis = notice_basis(status)
        live = status.discharge is not DischargeKind.ABSOLUTE
        if live and basis is not None and status.hospital_id is not None:
            key = f"placement-{status.placement}"
            if key not in s.hospital_notices:
                outcome = await self._notify_hospital(
                    key,
                    basis,
                    f"the victim wishes to make representations or receive information "
                    f"(placement {status.placement} of the patient)",
                    ENGINE_ACTOR,
                    list(s.representation_ids),
                )
                if not outcome.sent:
                    return  # stale: the newer hospital event brings the duties with it
            if status.placement not in s.hospital_details_told:
                await self._letter(
                    LetterKind.HOSPITAL_DETAILS,
                    f"hospital-details-{status.placement}",
                    hospital_id=status.hospital_id,
                )
                s.hospital_details_told.append(status.placement)
        on = status.discharged_on
        if on is not None and on not in s.discharges_told:
            # Told as a release is: the month only, on a day that depends on the month alone.
            self._hold(
                LetterKind.DISCHARGED,
                f"discharged-{on}",
                on,
                release_on=on,
                discharge=status.discharge,
                restriction_ends_on=self._restriction_end(),
            )
            s.discharges_told.append(on)

    def _restriction_end(self) -> date | None:
        """DVCVA s 41(3), s 44(3): the date a limitation or restriction direction ceases (a
        restriction order without limit of time has none), while its month is still to come or
        current: decided by the day, its presence would tell which side of that day (often the
        would-be release day) a letter was written (domain.md 'Never disclosed to a victim')."""
        status = self.state.hospital
        ends = status.restriction_ends_on if status is not None and status.restricted else None
        if ends is None or ReleaseMonth.of(ends) < ReleaseMonth.of(today()):
            return None
        return ends

    async def _on_hospital_event(self, event: CaseEvent) -> None:
        """The case's hospital status changed. The victim's stage, choices and history stay;
        what they are owed follows the new path (_catch_up runs next for an opted-in victim)."""
        s = self.state
        was_in_hospital, s.hospital = s.hospital is not None, event.hospital
        if event.hospital is None and was_in_hospital and s.stage is Stage.OPTED_IN:
            await self._letter(LetterKind.REMITTED, f"remitted-{event.sequence}")
        if event.hospital_news is not None and s.stage is Stage.OPTED_IN:
            # DVCVA s 37(6)-(7): what the Secretary of State or the tribunal told the probation
            # body is passed on to a victim who wished to make representations or be informed.
            varied = event.hospital_news == "restriction_varied"
            await self._letter(
                HOSPITAL_NEWS_LETTERS[event.hospital_news],
                f"{event.hospital_news}-{event.sequence}",
                restriction_ends_on=self._restriction_end() if varied else None,
            )

    async def _hospital_representations(self, representation_id: int, by: str) -> None:
        """s 36A / s 42A: the hospital managers are told the victim's representations too. If
        the current hospital has not been notified yet, its notice will carry them."""
        status = self.state.hospital
        if status is None or status.hospital_id is None:
            return
        basis = notice_basis(status)
        if basis is None or f"placement-{status.placement}" not in self.state.hospital_notices:
            return
        await self._notify_hospital(
            f"representation-{representation_id}@{status.placement}",
            basis,
            "the victim's representations about discharge",
            by,
            [representation_id],
            with_address=False,
        )

    # ---- VLO action: notify the hospital managers again --------------------------------------

    async def notify_hospital(self, action: NotifyHospital) -> ActionResult:
        """Notify the hospital managers again of this victim's name, address and representations
        (s 36A / s 42A), e.g. after the victim's address changed."""
        self.check_notify_hospital(action)
        s = self.state
        status = s.hospital
        assert status is not None
        basis = notice_basis(status)
        assert basis is not None
        number = s.hospital_notice_requests + 1
        outcome = await self._notify_hospital(
            f"request-{number}",
            basis,
            "asked by the VLO (the victim's details changed)",
            action.by,
            list(s.representation_ids),
        )
        s.hospital_notice_requests = number
        if not outcome.sent:
            return ActionResult(
                message=f"managers of hospital {status.hospital_id} not notified: {outcome.reason}"
            )
        return ActionResult(
            message=f"managers of hospital {status.hospital_id} notified of victim "
            f"{self.params.victim_id} ({basis.value}); the disclosure is recorded"
        )

    def check_notify_hospital(self, action: NotifyHospital) -> None:
        s, status = self.state, self.state.hospital
        ref, victim = self.params.case_ref, self.params.victim_id
        if status is None:
            raise rejected(
                f"case {ref} is on the custodial path: hospital managers are notified only for a "
                "hospital order or a transfer direction (DVCVA s 36A / s 42A)"
            )
        if notice_basis(status) is None:
            raise rejected(
                f"case {ref} has a hospital direction (DVCVA s 39): the Act gives no duty or "
                "authority to give the victim's details to the hospital managers"
            )
        if status.hospital_id is None:
            raise rejected(
                f"no hospital is recorded for case {ref}: record the hospital the patient is "
                "in first (DVCVA s 36A / s 42A)"
            )
        if status.discharge is DischargeKind.ABSOLUTE:
            raise rejected(f"the patient was absolutely discharged on {status.discharged_on}")
        if s.stage is not Stage.OPTED_IN:
            raise rejected(
                f"victim {victim} is not opted in (stage {s.stage.value}): the hospital managers "
                "are told only of a victim who wishes to make representations or receive "
                "information (DVCVA s 36A / s 42A)"
            )
