"""A senior VLO or manager reassigns one open task of their region to another VLO (issue 14:
"senior_vlo: as vlo, plus escalated tasks and reassigning tasks in the region").

The workflow is not told: its TaskBook (workflows/tasks.py) holds only each open task's ID,
kind and due date, and the case's responsible VLO for NEW tasks. Who holds an open task is its
VloTask row alone, so moving one task is a row write plus an audit entry
(models/task_moves.py, as a hand-off moves all of a workflow's), and completing it later goes
through the workflow by task ID as before.
"""

import re

from sqlmodel import select

from models.case import OffenderCase
from models.db import session_scope
from models.errors import VcsError
from models.messages import ActionResult
from models.records import VloTask
from models.task_moves import kept, reassign_tasks
from models.vocabulary import CaseStatus
from service.access import Action
from service.actor import Actor
from service.temporal import ServiceBase

# A user name as the identity provider's subject: the same 2 to 60 characters as every other
# VLO named in the project (models/handoff.py), and one token (letters, digits and . _ @ -), so
# it is never a role (escalations are held by "role:...") and can be named in the audit trail.
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,59}")
BAD_USER_NAME = (
    "the new VLO's user name must be 2 to 60 letters, digits, dots, dashes, "
    "underscores or @, starting with a letter or digit"
)


def user_name(value: str) -> str:
    """A VLO's user name, stripped, or a clear error (the value is not repeated)."""
    name = value.strip()
    if not USER_NAME.fullmatch(name):
        raise VcsError(BAD_USER_NAME)
    return name


class TaskActions(ServiceBase):
    def reassign_task(self, task_id: int, to_vlo: str, actor: Actor) -> ActionResult:
        """Give one open task of a case in the actor's region to another VLO, due date
        unchanged. Refused, changing nothing: a task that is not open, an escalation (local
        policy, workflows/tasks.py ESCALATION_ROLES: escalations go to roles, and are taken
        by that role, not handed to one person), a bad user name, or the same VLO."""
        self._task(actor, Action.REASSIGN_TASK, task_id)
        name = user_name(to_vlo)
        with session_scope(self.engine) as session:
            row = session.exec(select(VloTask).where(VloTask.id == task_id).with_for_update()).one()
            case = session.get(OffenderCase, row.case_id)
            refused = kept(row, name)
            if not refused and (case is None or case.status is not CaseStatus.OPEN):
                refused = f"task {task_id} is of a closed case: nothing to reassign"
            if refused:
                raise VcsError(refused)
            reassign_tasks(session, [row], name, actor=actor.id)
        return ActionResult(message=f"task {task_id} reassigned to {name}")
