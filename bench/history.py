"""Reading workflow histories: every run of a workflow (walking continue-as-new), and the
Temporal actions they hold, counted by kind."""

from collections import Counter
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from tests.helpers import LOCAL_ACTIVITY_MARKER, every_run, local_activity_type

E = EventType

# The events that are Temporal actions (what a hosted Temporal bills, and what the server
# persists work for). A signal is counted once, where it is received: the sender's
# SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED is the same signal seen from the other end.
# A continued-as-new run's WORKFLOW_EXECUTION_STARTED is the same action as the previous
# run's CONTINUED_AS_NEW, and a child's the same as its parent's child-workflow start, so only
# a first run started from outside counts as a start.
ACTION_KINDS: dict[int, str] = {
    E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "workflow start",
    E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity",
    E.EVENT_TYPE_TIMER_STARTED: "timer",
    E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
    E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child workflow",
    E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continue-as-new",
    E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search attributes upsert",
    E.EVENT_TYPE_MARKER_RECORDED: "local activities (markers, one per workflow task)",
}
ACTION_ORDER = list(dict.fromkeys(ACTION_KINDS.values()))


@dataclass
class Tally:
    """Actions and events over every run of some workflows."""

    actions: Counter[str] = field(default_factory=Counter)
    activities: Counter[str] = field(default_factory=Counter)  # by activity type
    events: Counter[str] = field(default_factory=Counter)  # every event type, for reference
    run_lengths: list[int] = field(default_factory=list)
    workflows: int = 0
    # Runs in which nothing happened but time passing (no activity, update or signal), and
    # the actions those cost.
    quiet_runs: int = 0
    quiet_actions: Counter[str] = field(default_factory=Counter)

    @property
    def total_actions(self) -> int:
        return sum(self.actions.values())

    @property
    def longest_run(self) -> int:
        return max(self.run_lengths, default=0)

    def add(self, other: "Tally") -> None:
        self.actions.update(other.actions)
        self.activities.update(other.activities)
        self.events.update(other.events)
        self.run_lengths += other.run_lengths
        self.workflows += other.workflows
        self.quiet_runs += other.quiet_runs
        self.quiet_actions.update(other.quiet_actions)

    def count_run(self, events: list[HistoryEvent]) -> None:
        self.run_lengths.append(len(events))
        run = Counter[str]()
        marker_tasks: set[int] = set()  # workflow tasks that recorded markers
        for event in events:
            self.events[E.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
            kind = ACTION_KINDS.get(event.event_type)
            if kind is None:
                continue
            if event.event_type == E.EVENT_TYPE_MARKER_RECORDED:
                marker = event.marker_recorded_event_attributes
                task = marker.workflow_task_completed_event_id
                if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                    self.activities[f"{local_activity_type(marker)} (local)"] += 1
                if task in marker_tasks:
                    continue
                marker_tasks.add(task)
            if event.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                attributes = event.workflow_execution_started_event_attributes
                if attributes.continued_execution_run_id:
                    continue
                if attributes.HasField("parent_workflow_execution"):
                    continue  # a child: its parent's START_CHILD_WORKFLOW_EXECUTION_INITIATED
            if event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                name = event.activity_task_scheduled_event_attributes.activity_type.name
                self.activities[name] += 1
            run[kind] += 1
        self.actions.update(run)
        busy = {"activity", "update", "signal", "child workflow", "workflow start"}
        if not run.keys() & (busy | {ACTION_KINDS[E.EVENT_TYPE_MARKER_RECORDED]}):
            self.quiet_runs += 1
            self.quiet_actions.update(run)


async def tally_workflow(client: Client, workflow_id: str) -> Tally:
    """Every run of one workflow (tests.helpers.every_run)."""
    tally = Tally(workflows=1)
    for history in await every_run(client, workflow_id):
        tally.count_run(list(history.events))
    return tally
