"""Cases live for years, so workflow code changes under running workflows. These tests replay
saved histories of real runs (tests/histories/, recorded by bin/record-histories) against the
current code: a change that would break a running case fails the build here. To change a
workflow safely, see README "Changing a workflow safely"."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from models.codec import data_converter
from tests.conftest import HISTORIES
from worker import SANDBOX
from workflows.case import CaseWorkflow

SAVED = sorted(HISTORIES.rglob("*.json"))


def test_histories_are_saved_for_every_kind_of_workflow() -> None:
    kinds = {path.name.split("-")[0] for path in SAVED}
    assert kinds == {"case"}, "run bin/record-histories"
    assert any("run01" in path.name for path in SAVED), "no continue-as-new run saved"


@pytest.mark.parametrize("path", SAVED, ids=[str(p.relative_to(HISTORIES)) for p in SAVED])
async def test_saved_history_replays_on_the_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[CaseWorkflow],
        data_converter=data_converter(),
        workflow_runner=SANDBOX,
    )
    await replayer.replay_workflow(history)
