"""What a VLO sees of the case (its dates, tasks, what is scheduled next), as a query:
mixed into CaseWorkflow (workflows/case.py)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.key_stages import custody_of
    from models.messages import CaseView, Scheduled
    from models.parole import parole_review_id

from workflows.case_host import CaseHost


class CaseViews(CaseHost):
    @workflow.query
    def view(self) -> CaseView:
        state = self._open_state() if self.state is None else self.state
        m = state.milestones
        scheduled = [
            Scheduled(on=t.due_on, what=f"task {t.task_id} {t.kind.value} due") for t in state.tasks
        ]
        if m.release_date is None and m.conditional_release_date and state.hospital is None:
            scheduled.append(
                Scheduled(on=m.conditional_release_date, what="conditional release date")
            )
        end = m.scheme_end()
        if end and state.hospital is None:
            scheduled.append(Scheduled(on=end, what="scheme ends (licence and supervision end)"))
        if state.next_parole_review_on and state.open_parole_review is None:
            scheduled.append(Scheduled(on=state.next_parole_review_on, what="next parole review"))
        preparation = self._parole_preparation_ahead()
        if preparation is not None and state.open_parole_review is None:
            scheduled.append(
                Scheduled(
                    on=preparation[0],
                    what="task opens: prepare victims for the Parole Board review (due "
                    f"{preparation[1]}; parole eligibility date {m.parole_eligibility_date})",
                )
            )
        return CaseView(
            case_ref=self.params.case_ref,
            milestones=m,
            victim_ids=list(state.victim_ids),
            open_tasks=list(state.tasks),
            scheduled=sorted(scheduled, key=lambda s: s.on),
            closed=state.closed,
            responsible_vlo=self.responsible_vlo,
            provider=self.params.provider,
            region=self.params.region,
            open_handoff=state.open_handoff,
            hospital=state.hospital,
            custody="closed" if state.closed else custody_of(state).value,
            key_stages=list(state.key_stages),
            open_parole_review=state.open_parole_review,
            latest_parole_review=(
                parole_review_id(self.params.case_ref, state.parole_reviews)
                if state.parole_reviews
                else None
            ),
        )
