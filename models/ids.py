"""Workflow IDs: one place for each shape, so a workflow can address another without importing
its module (IDs carry case references and numbers only, never personal data)."""


def case_workflow_id(case_ref: str) -> str:
    return f"vcs-case-{case_ref}"


def victim_key(case_ref: str, victim_id: int) -> str:
    """What a victim's steps' idempotency keys start with: the victim's path runs inside the
    case's workflow (workflows/victim_path.py), so its letters, tasks and stages are keyed
    under the case's workflow ID, then the victim."""
    return f"{case_workflow_id(case_ref)}:victim-{victim_id}"


def review_key(case_ref: str, review_id: str) -> str:
    """What a Parole Board review's steps' idempotency keys start with: the review is held in
    the case's workflow (workflows/review_path.py), keyed under its ID, then the review's."""
    return f"{case_workflow_id(case_ref)}:{review_id}"
