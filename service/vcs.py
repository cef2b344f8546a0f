"""Every action of the service in one object, as the console, the CLI and the tests use it."""

from models.db import make_engine
from models.startup import ready_database
from service.cases import CaseActions
from service.handoffs import HandoffActions
from service.hospital import HospitalActions
from service.parole import ParoleActions
from service.records import RecordActions
from service.tasks import TaskActions
from worker import connect


class Vcs(CaseActions, HandoffActions, HospitalActions, ParoleActions, RecordActions, TaskActions):
    """What a VLO can do. The CLI is a thin layer over this; tests drive it directly."""


async def connect_service() -> Vcs:
    """The service on the configured case database (VCS_DATABASE_URL) and Temporal: refused
    unless the database is at the schema's head (SQLite for the demo is created)."""
    engine = make_engine()
    ready_database(engine)
    return Vcs(await connect(), engine)
