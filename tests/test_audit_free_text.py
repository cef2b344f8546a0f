"""Issue 13, item 5: the audit trail is kept for ever and cannot be edited without breaking its
hash chain, so it holds IDs, kinds and dates only; what a VLO types lives in rows the retention
job erases, named from the trail by ID (models/audit.py).

The proof runs a case as a VLO would, typing a distinctive marker into every free-text field
on the way, to closure; runs the retention job; then reads every column of every table.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from models.activity_requests import AuditRecord
from models.audit import AuditDetail, Ref
from models.audit_chain import append_audit
from models.case import OffenderCase
from models.case_repository import register_case
from models.db import session_scope
from models.records import AuditEntry, CaseNote
from models.reports import ErasureRecord, RetentionInput
from models.vocabulary import CaseStatus, Stage, TaskKind
from tests.cli_harness import Cli, add_victim, case_args, cli, today  # noqa: F401
from tests.conftest import unique_ref
from tests.helpers import eventually, registration, stage, tasks
from workflows.retention import RetentionWorkflow

MARKER = "qzmarker"  # lower case: the scan compares lower-cased text
TYPED = {
    "offence": f"Wounding {MARKER}-offence",
    "discretion": f"the victim {MARKER}-discretion is 15 and frightened",
    "name": f"Ann {MARKER}-name",
    "address": f"1 {MARKER}-address Street, Leeds",
    "represents": f"{MARKER}-represents",
    "outcome": f"phoned {MARKER}-outcome at 3pm; she said to call her mother",
    "representation": f"I fear him. {MARKER}-representation",
    "condition": f"Not to enter {MARKER}-condition Road",
    "dhr": f"{MARKER}-reviewer panel",
    "purpose": f"MAPPA meeting about {MARKER}-purpose",
}


def text_everywhere(engine: Engine) -> str:
    """Every value of every column of every table (SQLModel.metadata), as text, lower-cased."""
    values: list[str] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa_select(table)):
                values += [
                    v if isinstance(v, str) else json.dumps(v, default=str)
                    for v in row
                    if v is not None
                ]
    return "\n".join(values).lower()


def case_row_status(engine: Engine, case_ref: str) -> CaseStatus:
    with session_scope(engine) as session:
        case = session.exec(select(OffenderCase).where(OffenderCase.case_ref == case_ref)).one()
        return case.status


async def test_retention_leaves_no_free_text_of_a_closed_case_anywhere(
    cli: Cli,  # noqa: F811
    task_queue: str,
) -> None:
    engine = cli.engine
    case_ref = unique_ref("FREE")
    sentenced = today() - timedelta(days=7)
    registration = case_args(
        case_ref, sentenced, term_months=6, offence=f"sch15_violent:{TYPED['offence']}"
    )  # under 12 months: taken as discretionary, with the VLO's reason
    await cli.ok(
        *registration, "--mappa-category", "1", "--mappa-level", "1",
        "--discretionary-reason-file", cli.text(TYPED["discretion"]),
    )  # fmt: skip
    victim_id = await add_victim(
        cli,
        case_ref,
        "--details", cli.details(
            full_name=TYPED["name"], address=TYPED["address"], postcode="LS1 1AA",
            represents=TYPED["represents"],
        ),
    )  # fmt: skip
    [offer] = await eventually(lambda: tasks(engine, victim_id))
    await cli.ok(
        "complete-task", "--task", str(offer.id), "--text-file", cli.text(TYPED["outcome"])
    )
    await eventually(lambda: stage(engine, victim_id) is Stage.OFFERED)
    await cli.ok(
        "opt-in", "--case", case_ref, "--victim", str(victim_id), "--level", "all_key_stages"
    )
    await eventually(lambda: stage(engine, victim_id) is Stage.OPTED_IN)
    await cli.ok(
        "submit-representations",
        "--case",
        case_ref,
        "--victim",
        str(victim_id),
        "--text-file",
        cli.text(TYPED["representation"]),
    )
    await cli.ok(
        "record-conditions", "--case", case_ref, "--kind", "no_contact", "--victim-related",
        "--text-file", cli.text(TYPED["condition"]), "--starts", str(today()),
    )  # fmt: skip
    await cli.ok(
        "dhr", "--case", case_ref, "--directed-on", str(today()),
        "--due", str(today() + timedelta(days=30)), "--reviewed-by", TYPED["dhr"],
    )  # fmt: skip
    [dhr] = [t for t in tasks(engine) if t.kind is TaskKind.DOMESTIC_HOMICIDE_REVIEW]
    await cli.ok("complete-task", "--task", str(dhr.id), "--text-file", cli.text(TYPED["outcome"]))
    await cli.ok(
        "disclose", "--case", case_ref, "--to", "West Yorkshire Police",
        "--recipient-kind", "police", "--basis", "cja2003_s325",
        "--purpose", TYPED["purpose"], "--share", "licence_conditions",
    )  # fmt: skip
    await cli.ok("record-key-stage", "--case", case_ref, "--stage", "death", "--date", str(today()))
    await eventually(lambda: case_row_status(engine, case_ref) is CaseStatus.CLOSED)
    await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
    await eventually(lambda: tasks(engine) == [])

    before = text_everywhere(engine)
    typed_in = [k for k, v in TYPED.items() if v.lower() in before]
    assert typed_in == list(TYPED), "the scan sees what was typed"
    with session_scope(engine) as session:
        audit = session.exec(select(AuditEntry)).all()
    # The trail never had it: no marker in any entry, before retention as after.
    assert not [e.action for e in audit if MARKER in " ".join(map(str, e.model_dump().values()))]

    # The retention job, as the weekly schedule runs it, once the period has passed.
    result = await cli.vcs.client.execute_workflow(
        RetentionWorkflow.run,
        RetentionInput(as_of=datetime.now(UTC) + timedelta(days=800)),
        id=f"vcs-retention-test-{uuid.uuid4()}",
        task_queue=task_queue,
    )
    assert (result.progress.cases_erased, result.progress.failed_case_ids) == (1, [])

    after = text_everywhere(engine)
    left = [k for k, v in TYPED.items() if v.lower() in after] + (
        ["marker"] if MARKER in after else []
    )
    assert not left, f"free text left after retention: {left}"
    with session_scope(engine) as session:
        [record] = session.exec(select(ErasureRecord)).all()
        assert record.verified is True
    # The trail is untouched, and still verifies.
    assert (await cli.ok("audit-verify", "--case", case_ref))[0].startswith(
        f"audit trail of case {case_ref} is intact"
    )


# ---- the type admits no free text --------------------------------------------------------


def test_an_audit_detail_refuses_free_text_without_repeating_it() -> None:
    words = "phoned Ann Smith at 3pm"
    with pytest.raises(ValueError, match="one token") as raised:
        AuditDetail.of(outcome=Ref(words))
    assert words not in str(raised.value)
    # Nor through the back door: facts read from a payload (a workflow's message).
    with pytest.raises(ValidationError) as invalid:
        AuditDetail.model_validate({"facts": {"outcome": words}})
    assert words not in str(invalid.value)
    with pytest.raises(ValidationError):
        AuditRecord.model_validate(
            {
                "idempotency_key": "k",
                "case_id": 1,
                "actor": "vlo.jones",
                "action": "note",
                "detail": {"facts": {"outcome": words}},
            }
        )
    # A fact is named by a word; its value is a number, flag, date, ID list, enum or Ref.
    with pytest.raises(ValidationError):
        AuditDetail(facts={"what happened": 1})
    detail = AuditDetail.of(task=3, kind=TaskKind.OFFER_SCHEME, due_on=today(), late=True)
    assert json.loads(detail.text()) == {
        "task": 3,
        "kind": "offer_scheme",
        "due_on": str(today()),
        "late": True,
    }


def test_an_audit_action_is_a_kind_and_words_go_to_a_note(engine: Engine) -> None:
    case = register_case(engine, registration(unique_ref("NOTE"), today()), "vlo.jones").case
    assert case.id is not None
    with session_scope(engine) as session:
        with pytest.raises(ValueError, match="one token"):
            append_audit(session, case_id=case.id, actor="vlo.jones", action="phoned her mum")
        append_audit(
            session,
            case_id=case.id,
            actor="vlo.jones",
            action="note",
            detail=AuditDetail.of(task=7),
            note="she asked us to call after 6pm",
        )
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "note")).all()
        facts = json.loads(entry.detail)
        note = session.get(CaseNote, facts["note"])
        assert facts == {"task": 7, "note": facts["note"]}
        assert note is not None and note.text == "she asked us to call after 6pm"
        assert "6pm" not in entry.detail
