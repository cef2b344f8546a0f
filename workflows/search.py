"""Search attributes: how ops find a case in the Temporal Web UI.

IDs, stages and dates only: search attributes are stored unencrypted, so never personal data.
The five queries ops use most are in the README ("Finding cases in the Web UI").
"""

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeUpdate,
)
from temporalio.service import RPCError, RPCStatusCode

# Passed through: plain data, so the sandbox need not execute it afresh for every workflow.
with workflow.unsafe.imports_passed_through():
    from models.search import (
        ALL_KEYS,
        CASE_REF,
        INDEXED_TYPE,
        NEXT_DEADLINE,
        PROVIDER,
        REGION,
        STAGE,
        attribute_values,
        deadline_value,
        initial_search_attributes,
    )

# Re-exported: workflows, activities and tests use them from here too.
__all__ = [
    "ALL_KEYS",
    "CASE_REF",
    "INDEXED_TYPE",
    "NEXT_DEADLINE",
    "PROVIDER",
    "REGION",
    "STAGE",
    "Published",
    "attribute_values",
    "deadline_value",
    "ensure_search_attributes",
    "initial_search_attributes",
]


async def ensure_search_attributes(client: Client) -> list[str]:
    """Register any of our search attributes the namespace lacks (idempotent). Returns the
    names added. On a production namespace the same call needs operator permission; the README
    gives the equivalent `temporal operator search-attribute create` commands."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as err:
        if err.status is not RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server
            raise
        known = set()
    missing = {
        key.name: INDEXED_TYPE[key.indexed_value_type.name]
        for key in ALL_KEYS
        if key.name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)


class Published:
    """Upserts search attributes only when they change, so history stays small."""

    def __init__(self) -> None:
        """Start from the attributes this run already has (set at start, or carried over by
        continue-as-new), so a new run re-publishes only what changed."""
        held = workflow.info().typed_search_attributes
        deadline = held.get(NEXT_DEADLINE)
        self.last = attribute_values(
            held.get(CASE_REF),
            held.get(STAGE),
            held.get(PROVIDER),
            held.get(REGION),
            deadline.date() if deadline is not None else None,
        )

    def publish(
        self,
        *,
        who: str,
        case_ref: str,
        stage: str,
        provider: str,
        region: str,
        due_dates: list[date],
        upcoming: list[tuple[date, str]],
        extra: str,
    ) -> None:
        """Search attributes, and the Web UI's 'current details': where the workflow stands and
        what it waits for next."""
        next_deadline = min(due_dates, default=None)
        waiting = f"next: {upcoming[0][1]} on {upcoming[0][0]}" if upcoming else "nothing scheduled"
        workflow.set_current_details(f"{who}: stage {stage}; {waiting}; {extra}")
        values = attribute_values(case_ref, stage, provider, region, next_deadline)
        if values == self.last:
            return
        updates: list[SearchAttributeUpdate[Any]] = [
            CASE_REF.value_set(case_ref),
            STAGE.value_set(stage),
            PROVIDER.value_set(provider),
            REGION.value_set(region),
        ]
        if next_deadline is None:
            updates.append(NEXT_DEADLINE.value_unset())
        else:
            updates.append(NEXT_DEADLINE.value_set(deadline_value(next_deadline)))
        workflow.upsert_search_attributes(updates)
        self.last = values
