"""Starting a victim's workflow. Victims' workflows are independent of the case's runs (a case
continues as new many times over a long sentence), so the case starts them through this
activity rather than as child workflows; starting is idempotent on the workflow ID."""

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from activities.calendar import fresh_calendar, running_out
from models.deadlines import offer_due
from models.messages import VictimInput
from models.search import initial_search_attributes
from models.vocabulary import Stage
from models.working_days import london_today


class VictimStarterActivities:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    @activity.defn
    async def start_victim_workflow(self, params: VictimInput, workflow_id: str) -> str:
        # A victim added late in a long case gets a calendar for its own years (the case's
        # renews only as the case's run continues as new).
        if running_out(params.policy.calendar, london_today()):
            renewed = params.policy.model_copy(update={"calendar": fresh_calendar()})
            params = params.model_copy(update={"policy": renewed})
        # A new victim workflow starts with the search attributes its first step would
        # publish (identified, the offer task due: Victims' Code Right 11), saving that upsert.
        search = (
            initial_search_attributes(
                case_ref=params.case_ref,
                stage=Stage.IDENTIFIED.value,
                provider=params.provider,
                region=params.region,
                next_deadline=offer_due(params.milestones.sentence_date, params.policy),
            )
            if params.state is None
            else None
        )
        await self.client.start_workflow(
            "VictimContact",
            params,
            id=workflow_id,
            task_queue=self.task_queue,
            # A retry finds the workflow it already started; a closed one is never restarted.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Victim {params.victim_id} of case {params.case_ref}",
            search_attributes=search,
        )
        return workflow_id
