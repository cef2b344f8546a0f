"""Workflow IDs: one place for each shape, so a workflow can address another without importing
its module (IDs carry case references and numbers only, never personal data)."""


def case_workflow_id(case_ref: str) -> str:
    return f"vcs-case-{case_ref}"


def victim_workflow_id(case_ref: str, victim_id: int) -> str:
    return f"vcs-victim-{case_ref}-{victim_id}"
