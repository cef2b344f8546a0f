"""The case store (models/*_repository.py) on SQLite and PostgreSQL: registration, victims,
representations, licence conditions, and the database constraints that make retries safe.

Every refused action must raise a VcsError that says why and change nothing.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select

from models.case import CaseRegistration, MilestoneDates, Offence, OffenderCase
from models.case_repository import add_conditions, case_by_ref, register_case
from models.db import session_scope
from models.errors import VcsError
from models.records import (
    AuditEntry,
    Correspondence,
    LicenceCondition,
    LicenceConditionBase,
    Representation,
    VloTask,
)
from models.representation_repository import add_representation
from models.victim import Victim
from models.victim_repository import add_victim
from models.vocabulary import (
    Channel,
    ConditionKind,
    Language,
    LetterKind,
    OffenceCategory,
    TaskKind,
)
from tests.conftest import unique_ref
from tests.helpers import audit_facts, registration, victim

# Recent: a case whose licence has already ended is refused (models/plausibility.py).
SENTENCED = datetime.now(UTC).date() - timedelta(days=30)
VLO = "vlo.jones"


def count(engine: Engine, table: type[SQLModel]) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def row_counts(engine: Engine) -> dict[str, int]:
    tables: list[type[SQLModel]] = [
        OffenderCase,
        Offence,
        AuditEntry,
        Victim,
        Representation,
        LicenceCondition,
    ]
    return {t.__name__: count(engine, t) for t in tables}


def registered_case(engine: Engine) -> str:
    case_ref = unique_ref()
    register_case(engine, registration(case_ref, SENTENCED), by=VLO)
    return case_ref


# --- register_case --------------------------------------------------------------------------


def test_register_case_creates_the_case_its_offences_and_an_audit_entry(engine: Engine) -> None:
    """DVCVA 2004 s 35: an eligible case is stored with its eligibility basis and reason."""
    case_ref = unique_ref()
    reg = registration(case_ref, SENTENCED, term_months=24)
    result = register_case(engine, reg, by=VLO)

    assert result.created is True
    assert result.decision.basis == "statutory"
    stored = case_by_ref(engine, case_ref)
    assert stored.id == result.case.id
    assert stored.eligibility_basis == "statutory"
    assert "s 45(2)" in stored.eligibility_reason
    assert "s 45(3)" in stored.eligibility_reason
    assert stored.term_months == 24
    assert stored.sentence_date == SENTENCED
    assert stored.conditional_release_date == reg.conditional_release_date
    assert stored.licence_expiry_date == reg.licence_expiry_date
    with session_scope(engine) as session:
        offences = session.exec(select(Offence).where(Offence.case_id == stored.id)).all()
        assert [(o.description, o.category) for o in offences] == [
            ("Wounding with intent", OffenceCategory.SCHEDULE_15_VIOLENT)
        ]
        audit = session.exec(select(AuditEntry).where(AuditEntry.case_id == stored.id)).all()
        assert [(a.actor, a.action) for a in audit] == [(VLO, "case_registered")]
        assert audit_facts(audit[0].detail) == {"basis": "statutory"}


def test_registering_the_identical_registration_again_changes_nothing(engine: Engine) -> None:
    """DVCVA 2004 s 35 (one case per offender sentence). Idempotent registration: a retry returns
    the case already there, created=False."""
    case_ref = unique_ref()
    first = register_case(engine, registration(case_ref, SENTENCED), by=VLO)
    before = row_counts(engine)

    again = register_case(engine, registration(case_ref, SENTENCED), by="vlo.smith")

    assert again.created is False
    assert again.case.id == first.case.id
    assert row_counts(engine) == before
    assert before["OffenderCase"] == 1
    assert before["Offence"] == 1
    assert before["AuditEntry"] == 1


def test_same_case_ref_with_different_details_is_refused(engine: Engine) -> None:
    """DVCVA 2004 s 35: the eligibility decision belongs to one case. A case reference names one
    case: a different registration under it is refused, and the stored case is left exactly as it
    was."""
    case_ref = unique_ref()
    register_case(engine, registration(case_ref, SENTENCED, term_months=24), by=VLO)
    before = row_counts(engine)

    changed = registration(case_ref, SENTENCED, term_months=24).model_copy(
        update={"region": "Wales"}
    )
    with pytest.raises(VcsError, match="different details") as raised:
        register_case(engine, changed, by=VLO)

    assert case_ref in str(raised.value)
    assert row_counts(engine) == before
    assert case_by_ref(engine, case_ref).region == "Yorkshire and the Humber"


def test_same_case_ref_with_different_milestone_dates_is_refused(engine: Engine) -> None:
    """domain.md 'Sentence milestones' (dates come from the prison). Registration is not the way to
    recalculate dates: a different sentence length (and so
    different milestones) under the same reference is refused."""
    case_ref = unique_ref()
    register_case(engine, registration(case_ref, SENTENCED, term_months=24), by=VLO)
    before = row_counts(engine)
    with pytest.raises(VcsError, match="different details"):
        register_case(engine, registration(case_ref, SENTENCED, term_months=36), by=VLO)
    assert row_counts(engine) == before
    assert case_by_ref(engine, case_ref).term_months == 24


def test_same_case_ref_with_different_offences_is_refused(engine: Engine) -> None:
    """DVCVA 2004 s 45(2): the offences decide eligibility, so they are part of the case's
    details. Re-registering with other offences must be refused, not reported as the same."""
    case_ref = unique_ref()
    register_case(engine, registration(case_ref, SENTENCED), by=VLO)
    other = registration(case_ref, SENTENCED, category=OffenceCategory.MURDER)
    with pytest.raises(VcsError, match="different details"):
        register_case(engine, other, by=VLO)


def test_ineligible_case_is_refused_naming_the_rule_and_writes_nothing(engine: Engine) -> None:
    """DVCVA 2004 s 45(3): 11 months' imprisonment is not a relevant sentence. The VLO is told
    which rule failed; no case, offence or audit row is written."""
    case_ref = unique_ref()
    with pytest.raises(VcsError) as raised:
        register_case(engine, registration(case_ref, SENTENCED, term_months=11), by=VLO)
    message = str(raised.value)
    assert case_ref in message
    assert "not eligible" in message
    assert "12 months" in message
    assert "s 45" in message
    assert row_counts(engine) == dict.fromkeys(row_counts(engine), 0)


def test_ineligible_offence_is_refused_naming_s45_2(engine: Engine) -> None:
    """DVCVA 2004 s 45(2): an 'other' offence does not qualify however long the sentence."""
    reg = registration(unique_ref(), SENTENCED, term_months=60, category=OffenceCategory.OTHER)
    with pytest.raises(VcsError, match=r"s 45\(2\)"):
        register_case(engine, reg, by=VLO)
    assert count(engine, OffenderCase) == 0


def test_discretionary_case_is_registered_as_discretionary(engine: Engine) -> None:
    """domain.md 'Beyond the statute': a case outside DVCVA s 45(3) taken on discretion is
    stored as discretionary, with the reason and the failed statutory rule."""
    case_ref = unique_ref()
    reg = registration(
        case_ref,
        SENTENCED,
        term_months=6,
        discretionary_reason="Domestic abuse: offered case by case",
    )
    result = register_case(engine, reg, by=VLO)
    assert result.created is True
    stored = case_by_ref(engine, case_ref)
    assert stored.eligibility_basis == "discretionary"
    assert "Domestic abuse" in stored.eligibility_reason
    assert "12 months" in stored.eligibility_reason


def test_licence_expiry_before_conditional_release_is_refused_naming_both_dates(
    engine: Engine,
) -> None:
    """Sentence milestones (domain.md; CJA 2003 s 244): release comes before licence expiry.
    Contradictory dates from a miscalculation are refused, naming both dates."""
    reg = registration(
        unique_ref(),
        SENTENCED,
        release_after=timedelta(days=400),
        licence_after=timedelta(days=300),
    )
    release, expiry = reg.conditional_release_date, reg.licence_expiry_date
    assert release is not None and expiry is not None
    with pytest.raises(VcsError) as raised:
        register_case(engine, reg, by=VLO)
    message = str(raised.value)
    assert "conditional release date" in message
    assert "licence expiry date" in message
    assert release.isoformat() in message
    assert expiry.isoformat() in message
    assert count(engine, OffenderCase) == 0


def test_release_before_sentence_is_refused_naming_both_dates(engine: Engine) -> None:
    """Sentence milestones (domain.md): nobody is released before they are sentenced."""
    released = SENTENCED - timedelta(days=1)
    reg = registration(unique_ref(), SENTENCED, release_date=released)
    with pytest.raises(VcsError) as raised:
        register_case(engine, reg, by=VLO)
    message = str(raised.value)
    assert "release date" in message
    assert "sentence date" in message
    assert released.isoformat() in message
    assert SENTENCED.isoformat() in message
    assert count(engine, OffenderCase) == 0


def test_release_after_licence_expiry_is_refused_naming_both_dates(engine: Engine) -> None:
    """Sentence milestones (domain.md 'On licence'): the licence runs from release, so a release
    after licence expiry is a contradiction."""
    reg = registration(unique_ref(), SENTENCED, term_months=24)
    expiry = reg.licence_expiry_date
    assert expiry is not None
    late = expiry + timedelta(days=1)
    reg = reg.model_copy(update={"release_date": late})
    with pytest.raises(VcsError) as raised:
        register_case(engine, reg, by=VLO)
    message = str(raised.value)
    assert late.isoformat() in message
    assert expiry.isoformat() in message
    assert count(engine, OffenderCase) == 0


def test_milestone_problems_lists_every_contradiction() -> None:
    """domain.md 'Sentence milestones': MilestoneDates.problems reports all contradictions, each
    naming both dates."""
    dates = MilestoneDates(
        sentence_date=date(2026, 3, 2),
        parole_eligibility_date=date(2026, 3, 1),  # before sentence
        conditional_release_date=date(2027, 3, 2),
        licence_expiry_date=date(2027, 1, 1),  # before release
    )
    problems = dates.problems()
    assert len(problems) == 2
    assert "2026-03-01" in problems[0] and "2026-03-02" in problems[0]
    assert "2027-03-02" in problems[1] and "2027-01-01" in problems[1]
    consistent = MilestoneDates(
        sentence_date=date(2026, 3, 2),
        conditional_release_date=date(2027, 3, 2),
        licence_expiry_date=date(2028, 3, 2),
    )
    assert consistent.problems() == []


# --- add_victim -----------------------------------------------------------------------------


def test_add_victim_stores_the_victim_and_an_audit_entry(engine: Engine) -> None:
    """DVCVA 2004 s 35(3): the victim the VLO must contact is recorded, and the action audited
    (domain.md 'Information sharing': accountable)."""
    case_ref = registered_case(engine)
    row = add_victim(engine, case_ref, victim("Alice Example"), by=VLO)
    assert row.id is not None
    with session_scope(engine) as session:
        stored = session.get(Victim, row.id)
        assert stored is not None
        assert (stored.full_name, stored.postcode) == ("Alice Example", "LS1 1AA")
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.victim_id == row.id)
        ).all()
        assert list(actions) == ["victim_added"]


@pytest.mark.parametrize(
    ("channel", "field"),
    [(Channel.EMAIL, "email"), (Channel.PHONE, "phone"), (Channel.LETTER, "address")],
)
def test_victim_must_be_reachable_on_the_chosen_channel(
    engine: Engine, channel: Channel, field: str
) -> None:
    """domain.md 'Opt in or out': the victim chooses a channel; the scheme must be able to use
    it. Email with no email address (or a blank one) is refused and nothing is written."""
    case_ref = registered_case(engine)
    before = row_counts(engine)
    for missing in (None, "   "):
        extra: dict[str, object] = {"preferred_channel": channel, field: missing}
        details = victim("Alice Example", **extra)
        with pytest.raises(VcsError) as raised:
            add_victim(engine, case_ref, details, by=VLO)
        assert channel.value in str(raised.value)
        assert field in str(raised.value)
    assert row_counts(engine) == before


def test_email_victim_with_an_email_address_is_accepted(engine: Engine) -> None:
    """domain.md 'Opt in or out': email is a channel a victim may choose (negative control)."""
    case_ref = registered_case(engine)
    details = victim(preferred_channel=Channel.EMAIL, email="alice@example.org")
    assert add_victim(engine, case_ref, details, by=VLO).id is not None


def test_duplicate_victim_on_the_same_case_is_refused(engine: Engine) -> None:
    """DVCVA 2004 s 35(3) ("all reasonable steps" to find out the victim's wishes): the same
    person (name and postcode) recorded twice on a case would be contacted twice."""
    case_ref = registered_case(engine)
    first = add_victim(engine, case_ref, victim("Alice Example"), by=VLO)
    before = row_counts(engine)
    with pytest.raises(VcsError, match="already recorded") as raised:
        add_victim(engine, case_ref, victim("Alice Example"), by=VLO)
    assert str(first.id) in str(raised.value)
    assert "Alice" not in str(raised.value)  # errors carry no personal data (models/errors.py)
    assert row_counts(engine) == before


def test_duplicate_victim_without_a_postcode_is_refused(engine: Engine) -> None:
    """DVCVA 2004 s 35(3), as above: the duplicate check must also match a missing postcode (SQL
    NULL never equals NULL)."""
    case_ref = registered_case(engine)
    add_victim(engine, case_ref, victim("Bob Example", postcode=None), by=VLO)
    with pytest.raises(VcsError, match="already recorded"):
        add_victim(engine, case_ref, victim("Bob Example", postcode=None), by=VLO)
    assert count(engine, Victim) == 1


def test_same_name_elsewhere_is_not_a_duplicate(engine: Engine) -> None:
    """DVCVA 2004 s 35(3): negative control: another postcode, or the same person on another case,
    is allowed."""
    case_ref = registered_case(engine)
    other_case = registered_case(engine)
    add_victim(engine, case_ref, victim("Alice Example"), by=VLO)
    add_victim(engine, case_ref, victim("Alice Example", postcode="CF10 1AA"), by=VLO)
    add_victim(engine, other_case, victim("Alice Example"), by=VLO)
    assert count(engine, Victim) == 3


def test_add_victim_to_an_unknown_case_is_refused(engine: Engine) -> None:
    """DVCVA 2004 s 35: a victim is owed the scheme only through a registered case."""
    with pytest.raises(VcsError, match="no case"):
        add_victim(engine, "NOSUCHCASE", victim(), by=VLO)
    assert count(engine, Victim) == 0


# --- add_representation: DVCVA 2004 s 35(4) ---------------------------------------------------


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_blank_representations_are_refused(engine: Engine, blank: str) -> None:
    """DVCVA 2004 s 35(4): representations are forwarded to the decider; an empty one is not a
    representation and must not be stored or forwarded."""
    case_ref = registered_case(engine)
    row = add_victim(engine, case_ref, victim(), by=VLO)
    assert row.id is not None
    with pytest.raises(VcsError, match="empty"):
        add_representation(engine, row.id, blank)
    assert count(engine, Representation) == 0


def test_representation_is_stored_against_the_victim_and_case(engine: Engine) -> None:
    """DVCVA 2004 s 35(4): a representation is kept until forwarded."""
    case_ref = registered_case(engine)
    row = add_victim(engine, case_ref, victim(), by=VLO)
    assert row.id is not None
    rep_id = add_representation(engine, row.id, "Please keep him away from my street.")
    with session_scope(engine) as session:
        rep = session.get(Representation, rep_id)
        assert rep is not None
        assert (rep.victim_id, rep.case_id) == (row.id, row.case_id)
        assert rep.forwarded_at is None


def test_overlong_representation_is_refused_the_same_way_on_both_backends(
    engine: Engine,
) -> None:
    """DVCVA 2004 s 35(4): a representation too long to store is refused with a VcsError the
    VLO can read, on every backend alike, and nothing is written."""
    case_ref = registered_case(engine)
    row = add_victim(engine, case_ref, victim(), by=VLO)
    assert row.id is not None
    with pytest.raises(VcsError):
        add_representation(engine, row.id, "x" * 20_001)
    assert count(engine, Representation) == 0


def test_representation_for_an_unknown_victim_is_refused(engine: Engine) -> None:
    """DVCVA 2004 s 35(4): representations come from a victim in the scheme."""
    with pytest.raises(VcsError, match="no victim"):
        add_representation(engine, 999_999, "Some words")
    assert count(engine, Representation) == 0


# --- add_conditions: DVCVA 2004 s 35(5)-(7) ---------------------------------------------------


def test_condition_ending_before_it_starts_is_refused_and_nothing_is_written(
    engine: Engine,
) -> None:
    """DVCVA 2004 s 35(7): the victim is told the date conditions cease, so an end before the
    start is an error. One bad condition refuses the whole batch (no partial record)."""
    case_ref = registered_case(engine)
    starts = date(2027, 3, 1)
    good = LicenceConditionBase(
        kind=ConditionKind.NO_CONTACT,
        description="Not to contact the victim",
        victim_related=True,
        starts_on=starts,
    )
    bad = LicenceConditionBase(
        kind=ConditionKind.EXCLUSION_ZONE,
        description="Not to enter the exclusion zone",
        victim_related=True,
        starts_on=starts,
        ends_on=starts - timedelta(days=1),
    )
    with pytest.raises(VcsError) as raised:
        add_conditions(engine, case_ref, [good, bad])
    assert "2027-02-28" in str(raised.value)
    assert "2027-03-01" in str(raised.value)
    assert count(engine, LicenceCondition) == 0


def test_conditions_are_stored_for_the_case(engine: Engine) -> None:
    """DVCVA 2004 s 35(5)-(7); a condition may start and end on the same day."""
    case_ref = registered_case(engine)
    day = date(2027, 3, 1)
    ids = add_conditions(
        engine,
        case_ref,
        [
            LicenceConditionBase(
                kind=ConditionKind.NO_CONTACT,
                description="Not to contact the victim",
                victim_related=True,
                starts_on=day,
                ends_on=day,
            ),
            LicenceConditionBase(
                kind=ConditionKind.OTHER,
                description="Attend drug testing",
                victim_related=False,
                starts_on=day,
            ),
        ],
    )
    assert len(ids) == 2
    assert count(engine, LicenceCondition) == 2


# --- database constraints, on both backends -------------------------------------------------


def case_and_victim_ids(engine: Engine) -> tuple[int, int]:
    case_ref = registered_case(engine)
    row = add_victim(engine, case_ref, victim(), by=VLO)
    assert row.id is not None
    return row.case_id, row.id


def letter(case_id: int, victim_id: int, key: str) -> Correspondence:
    return Correspondence(
        idempotency_key=key,
        case_id=case_id,
        victim_id=victim_id,
        kind=LetterKind.OFFER,
        channel=Channel.LETTER,
        language=Language.ENGLISH,
        body="Offer of the Victim Contact Scheme",
        created_at=datetime.now(UTC),
    )


def test_correspondence_idempotency_key_is_unique(engine: Engine) -> None:
    """DVCVA 2004 s 35(5)-(7) duties to inform are met once, not repeatedly. The outbox's
    idempotency key makes a retried activity send a letter at most once: the
    database itself must refuse a second row with the same key."""
    case_id, victim_id = case_and_victim_ids(engine)
    with session_scope(engine) as session:
        session.add(letter(case_id, victim_id, "wf-1/offer"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(letter(case_id, victim_id, "wf-1/offer"))
    with session_scope(engine) as session:
        session.add(letter(case_id, victim_id, "wf-1/chase"))  # another key is fine
    assert count(engine, Correspondence) == 2


def test_database_errors_never_quote_the_values_written(engine: Engine) -> None:
    """A refused write names the table and constraint, never the values: an error ends up in
    worker logs and Temporal failures, and the values may be a victim's words
    (models/db.py hide_parameters)."""
    case_id, victim_id = case_and_victim_ids(engine)
    with session_scope(engine) as session:
        session.add(letter(case_id, victim_id, "wf-2/offer"))
    repeated = letter(case_id, victim_id, "wf-2/offer")
    repeated.body = "Dear Ms Quenby-Albright of 7 Hollin Lane"
    with pytest.raises(IntegrityError) as refused, session_scope(engine) as session:
        session.add(repeated)
    message = str(refused.value)
    assert "correspondence" in message.lower() and "parameters hidden" in message
    # (PostgreSQL itself quotes the conflicting key; keys hold IDs, never personal data.)
    assert "Quenby" not in message and "Hollin" not in message


def test_vlo_task_key_is_unique(engine: Engine) -> None:
    """Victims' Code 2020 Right 11 (the offer task): a task is opened once however often the
    activity that opens it is retried."""
    case_id, victim_id = case_and_victim_ids(engine)

    def task() -> VloTask:
        return VloTask(
            task_key="wf-1/offer",
            workflow_id="wf-1",
            case_id=case_id,
            victim_id=victim_id,
            kind=TaskKind.OFFER_SCHEME,
            title="Offer the scheme",
            assigned_to=VLO,
            due_on=date(2026, 4, 1),
            created_at=datetime.now(UTC),
        )

    with session_scope(engine) as session:
        session.add(task())
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(task())
    assert count(engine, VloTask) == 1


def test_audit_idempotency_key_is_unique_but_may_be_absent_many_times(engine: Engine) -> None:
    """domain.md 'Information sharing' (accountable): an automatic step is audited exactly once (a
    key); VLO actions carry no key, and many entries without one must coexist (registration and
    add_victim already wrote two)."""
    case_id, victim_id = case_and_victim_ids(engine)

    def entry(key: str | None) -> AuditEntry:
        return AuditEntry(
            idempotency_key=key,
            case_id=case_id,
            victim_id=victim_id,
            actor="system",
            action="offer_sent",
            at=datetime.now(UTC),
        )

    with session_scope(engine) as session:
        session.add(entry(None))
        session.add(entry("wf-1/offer_sent"))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(entry("wf-1/offer_sent"))
    assert count(engine, AuditEntry) == 4


def test_case_ref_is_unique_in_the_database(engine: Engine) -> None:
    """DVCVA 2004 s 35 (one case, one decision): two concurrent registrations that both pass the
    repository's check must still not create two cases under one reference."""
    case_ref = registered_case(engine)
    stored = case_by_ref(engine, case_ref)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(OffenderCase(**stored.model_dump(exclude={"id"})))
    assert count(engine, OffenderCase) == 1


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    """domain.md 'Victim data' (each disclosure recorded against a real victim): a letter for a
    case or victim that does not exist is refused (SQLite only enforces
    foreign keys with PRAGMA foreign_keys=ON, which models/db.py sets)."""
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(letter(999_999, 999_999, "orphan"))
    assert count(engine, Correspondence) == 0


def test_registration_needs_at_least_one_offence() -> None:
    """DVCVA 2004 s 35(1): a registration without an offence cannot even be built."""
    fields = registration(unique_ref(), SENTENCED).model_dump()
    with pytest.raises(ValidationError, match="offences"):
        CaseRegistration.model_validate({**fields, "offences": []})
