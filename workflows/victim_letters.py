"""What a victim is told by letter, and when: letters held for a day that depends on a month
alone (a release, a discharge, the end of a licence: the day itself is never given away), the
conditions told, and the ends of conditions. Mixed into workflows/victim_timeline.py."""

from datetime import date
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.release_month import ReleaseMonth, release_told_on
    from models.vocabulary import DischargeKind, LetterKind
    from models.workflow_state import ConditionNotice, HeldLetter, VictimInput, VictimState

from workflows.common import today


class VictimLetters:
    if TYPE_CHECKING:
        state: VictimState
        params: VictimInput

        async def _letter(self, kind: LetterKind, key: str, **fields: object) -> None: ...

        def _restriction_end(self) -> date | None: ...

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
