"""The worker's process-wide set-up: workflow modules imported afresh for each sandboxed
workflow share one compiled copy of their code (worker.SharedWorkflowCode), which halved a
cached workflow's memory in the scale benchmark."""

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from worker import SharedWorkflowCode


class ProbeCode(SharedWorkflowCode):
    PACKAGES = ("probe_workflows",)


@pytest.fixture
def probe_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    package = tmp_path / "probe_workflows"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "steps.py"
    module.write_text("COUNTER = []\n\n\ndef step():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [ProbeCode(), *sys.meta_path])
    yield module
    for name in ("probe_workflows.steps", "probe_workflows"):
        sys.modules.pop(name, None)


def import_afresh() -> ModuleType:
    """What the sandbox does for each new workflow: import the module as if for the first
    time."""
    for name in ("probe_workflows.steps", "probe_workflows"):
        sys.modules.pop(name, None)
    return importlib.import_module("probe_workflows.steps")


def test_each_import_gets_its_own_module_but_shares_the_compiled_code(
    probe_package: Path,
) -> None:
    first, second = import_afresh(), import_afresh()
    assert first is not second
    assert first.step is not second.step
    assert first.COUNTER is not second.COUNTER  # module state stays per workflow
    assert first.step.__code__ is second.step.__code__  # compiled once


def test_an_edited_file_is_compiled_again(probe_package: Path) -> None:
    before = import_afresh()
    probe_package.write_text("COUNTER = []\n\n\ndef step():\n    return 22\n")
    stat = probe_package.stat()
    os.utime(probe_package, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = import_afresh()
    assert before.step() == 1 and after.step() == 22
    assert after.step.__code__ is not before.step.__code__


def test_other_packages_are_left_to_the_usual_finders(probe_package: Path) -> None:
    assert ProbeCode().find_spec("json", None) is None
    assert SharedWorkflowCode().find_spec("probe_workflows", None) is None
