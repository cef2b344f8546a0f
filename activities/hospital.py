"""Activities of the hospital paths (models/hospital.py; DVCVA 2004 ss 36-44A): the case's
disposal changing, and the s 36A / s 42A notices to hospital managers, each exactly once.

A notice to the hospital managers is the one place a victim's address leaves the system without
the victim's consent (domain.md 'Victim data'). It is checked by the sharing rules
(models/sharing.py), recorded as a Disclosure with one item per category, audited in the same
transaction, and put in the outbox (Correspondence, kind hospital_notice) for the admin team to
post to the hospital. Nothing of it is logged or returned but IDs.
"""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import col, select
from temporalio import activity

from activities.errors import data_error, stored_case
from activities.letter_bodies import BODIES
from activities.letter_render import hospital_lines
from models.audit_chain import already_done, append_audit
from models.case import OffenderCase
from models.case_repository import decide_for_case
from models.db import session_scope
from models.hospital import (
    NOTICE_BASIS,
    DisposalChange,
    Hospital,
    HospitalNoticeOutcome,
    HospitalNoticeRequest,
)
from models.records import Correspondence, Representation
from models.sharing import (
    DisclosureRequest,
    InformationCategory,
    LawfulBasis,
    RecipientKind,
    disclosure_refusals,
)
from models.sharing_repository import write_disclosure
from models.victim import Victim
from models.vocabulary import Channel, Language, LetterKind

SECTIONS = {LawfulBasis.DVCVA_S36A: "36A", LawfulBasis.DVCVA_S42A: "42A"}
NOTIFIED = "as notified to you before"


class HospitalActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def change_disposal(self, change: DisposalChange) -> None:
        """Write the case's new disposal, restriction and hospital, once. A new disposal must be
        one the case is eligible for (models/eligibility.py), and a hospital must be recorded:
        otherwise nothing changes and the action fails with the reason."""
        with session_scope(self.engine) as session:
            if already_done(session, change.idempotency_key):
                return
            case = stored_case(session, change.case_id)
            if change.hospital_id is not None and session.get(Hospital, change.hospital_id) is None:
                raise data_error(f"no hospital {change.hospital_id} is recorded")
            if change.disposal is not case.disposal:
                decision = decide_for_case(session, case, change.disposal, change.restricted)
                if not decision.eligible:
                    raise data_error(
                        f"case {case.case_ref} cannot become {change.disposal.value}: "
                        f"{decision.explain()}"
                    )
            case.disposal = change.disposal
            case.restricted = change.restricted
            case.restriction_ends_on = change.restriction_ends_on
            case.hospital_id = change.hospital_id
            session.add(case)
            append_audit(
                session,
                case_id=change.case_id,
                actor=change.by,
                action=change.action,
                detail=change.detail.plus(
                    disposal=change.disposal,
                    restricted=change.restricted,
                    restriction_ends_on=change.restriction_ends_on,
                    hospital=change.hospital_id,
                ),
                idempotency_key=change.idempotency_key,
            )

    @activity.defn
    def notify_hospital_managers(self, request: HospitalNoticeRequest) -> HospitalNoticeOutcome:
        """DVCVA 2004 s 36A / s 42A: tell the hospital managers the victim's name, the address
        at which they may be contacted, and their representations. A retry or a replay finds
        the notice already made (its audit entry carries the key) and does nothing. A request
        for a hospital the patient is no longer in, or on a path the case has left, is stale:
        nothing is recorded or sent (the victim's address goes only where the patient is)."""
        with session_scope(self.engine) as session:
            if already_done(session, request.idempotency_key):
                return HospitalNoticeOutcome(sent=True, reason="already made")
            case = session.get(OffenderCase, request.case_id)
            hospital = session.get(Hospital, request.hospital_id)
            victim = session.get(Victim, request.victim_id)
            if case is None or hospital is None:
                raise data_error(
                    f"case id {request.case_id} or hospital {request.hospital_id} is not in "
                    "the case database"
                )
            if case.hospital_id != request.hospital_id or (
                NOTICE_BASIS.get(case.disposal) is not request.basis
            ):
                return HospitalNoticeOutcome(
                    sent=False,
                    reason=f"stale: the case is now {case.disposal.value} with hospital "
                    f"{case.hospital_id}, not hospital {request.hospital_id} under "
                    f"{request.basis.value}; nothing sent",
                )
            if victim is None or victim.case_id != case.id or victim.erased_at is not None:
                raise data_error(f"victim {request.victim_id} cannot be notified for this case")
            assert case.id is not None and victim.id is not None
            representations = [
                rep
                for rep in session.exec(
                    select(Representation)
                    .where(col(Representation.id).in_(request.representation_ids))
                    .order_by(col(Representation.id))
                ).all()
                if rep.victim_id == victim.id
            ]
            categories = [InformationCategory.VICTIM_NAME]
            if request.with_address and victim.address:
                categories.append(InformationCategory.VICTIM_ADDRESS)
            elif request.with_address and (victim.email or victim.phone):
                categories.append(InformationCategory.VICTIM_CONTACT_DETAILS)
            if representations:
                categories.append(InformationCategory.VICTIM_REPRESENTATIONS)
            section = SECTIONS[request.basis]
            disclosure = DisclosureRequest(
                recipient_agency=f"managers of {hospital.name}",
                recipient_kind=RecipientKind.HOSPITAL_MANAGERS,
                lawful_basis=request.basis,
                purpose=f"DVCVA 2004 s {section} notice: {request.reason}",
                own_categories=categories,
                victim_id=victim.id,
            )
            refusals = disclosure_refusals(disclosure, case, [], victim)
            if refusals:
                raise data_error("hospital notice refused: " + "; ".join(refusals))
            write_disclosure(
                session, case, disclosure, [], request.by, idempotency_key=request.idempotency_key
            )
            session.add(
                Correspondence(
                    idempotency_key=request.idempotency_key,
                    case_id=case.id,
                    victim_id=victim.id,
                    kind=LetterKind.HOSPITAL_NOTICE,
                    channel=Channel.LETTER,  # posted to the hospital by the admin team
                    language=Language.ENGLISH,
                    body=BODIES[Language.ENGLISH][LetterKind.HOSPITAL_NOTICE].format(
                        hospital=hospital_lines(hospital),
                        section=section,
                        case_ref=case.case_ref,
                        victim_name=victim.full_name,
                        victim_contact=_contact(victim) if request.with_address else NOTIFIED,
                        representations="".join(
                            f"\nRepresentations received {rep.received_at:%d %B %Y}:\n{rep.text}\n"
                            for rep in representations
                        ),
                    ),
                    created_at=datetime.now(UTC),
                )
            )
            return HospitalNoticeOutcome(sent=True)


def _contact(victim: Victim) -> str:
    """The address at which the victim may be contacted (s 36A): postal, else email or phone."""
    if victim.address:
        return f"{victim.address}\n{victim.postcode or ''}".strip()
    return victim.email or victim.phone or "through the Victim Liaison Officer"
