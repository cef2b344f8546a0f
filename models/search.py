"""Search attributes: the keys ops find a case by in the Temporal Web UI, and the values a
workflow starts with. IDs, stages and dates only: search attributes are stored unencrypted, so
never personal data. Here, below activities and workflows, so both can use them."""

from datetime import UTC, date, datetime, time
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

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


def deadline_value(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def attribute_values(
    case_ref: str | None,
    stage: str | None,
    provider: str | None,
    region: str | None,
    next_deadline: date | None,
) -> dict[str, object]:
    return {
        CASE_REF.name: case_ref,
        STAGE.name: stage,
        PROVIDER.name: provider,
        REGION.name: region,
        NEXT_DEADLINE.name: next_deadline,
    }


def initial_search_attributes(
    *, case_ref: str, stage: str, provider: str, region: str, next_deadline: date | None
) -> TypedSearchAttributes:
    """Search attributes a workflow starts with: set at the start they cost no action, and
    the workflow's first publish finds nothing to change."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(CASE_REF, case_ref),
        SearchAttributePair(STAGE, stage),
        SearchAttributePair(PROVIDER, provider),
        SearchAttributePair(REGION, region),
    ]
    if next_deadline is not None:
        pairs.append(SearchAttributePair(NEXT_DEADLINE, deadline_value(next_deadline)))
    return TypedSearchAttributes(pairs)
