"""Search attributes: how ops find a case in the Temporal Web UI.

IDs, stages and dates only: search attributes are stored unencrypted, so never personal data.
The five queries ops use most are in the README ("Finding cases in the Web UI").
"""

from datetime import UTC, date, datetime, time
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.service import RPCError, RPCStatusCode

CASE_REF = SearchAttributeKey.for_keyword("VcsCaseRef")
STAGE = SearchAttributeKey.for_keyword("VcsStage")
PROVIDER = SearchAttributeKey.for_keyword("VcsProvider")
REGION = SearchAttributeKey.for_keyword("VcsRegion")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("VcsNextDeadline")

ALL_KEYS = (CASE_REF, STAGE, PROVIDER, REGION, NEXT_DEADLINE)
INDEXED_TYPE = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


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
        self.last: dict[str, object] = {}

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
        values: dict[str, object] = {
            CASE_REF.name: case_ref,
            STAGE.name: stage,
            PROVIDER.name: provider,
            REGION.name: region,
            NEXT_DEADLINE.name: next_deadline,
        }
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
            updates.append(NEXT_DEADLINE.value_set(datetime.combine(next_deadline, time.min, UTC)))
        workflow.upsert_search_attributes(updates)
        self.last = values


if __name__ == "__main__":
    import asyncio
    import os
    import sys

    from worker import connect

    async def _main() -> None:
        added = await ensure_search_attributes(await connect())
        print(
            f"search attributes added: {', '.join(added)}" if added else "search attributes ready"
        )

    asyncio.run(_main())
    sys.stdout.flush()
    os._exit(0)  # skip teardown: the Temporal client's native threads can abort it
