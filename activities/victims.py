"""Starting a victim's workflow. Victims' workflows are independent of the case's runs (a case
continues as new many times over a long sentence), so the case starts them through this
activity rather than as child workflows; starting is idempotent on the workflow ID."""

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from models.messages import VictimInput


class VictimStarterActivities:
    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    @activity.defn
    async def start_victim_workflow(self, params: VictimInput, workflow_id: str) -> str:
        await self.client.start_workflow(
            "VictimContact",
            params,
            id=workflow_id,
            task_queue=self.task_queue,
            # A retry finds the workflow it already started; a closed one is never restarted.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"Victim {params.victim_id} of case {params.case_ref}",
        )
        return workflow_id
