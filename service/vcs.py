"""Every action of the service in one object, as the console, the CLI and the tests use it."""

from service.cases import CaseActions
from service.handoffs import HandoffActions
from service.hospital import HospitalActions
from service.parole import ParoleActions
from service.records import RecordActions


class Vcs(CaseActions, HandoffActions, HospitalActions, ParoleActions, RecordActions):
    """What a VLO can do. The CLI is a thin layer over this; tests drive it directly."""
