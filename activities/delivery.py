"""Email and text messages through GOV.UK Notify (`activities/notify.py`): sent exactly once,
kept within Notify's limits, and followed to a final status (models/delivery.py).

- `deliver` sends one outbox row (the letter activity calls it) and records what Notify said.
  A recipient refusal (an invalid address or number) is `rejected`: the letter's workflow opens
  the undelivered task. Any other refusal is our configuration (NotifyConfigFault): retried with
  a growing delay, counted in the `vcs_notify_config_faults` metric (the Temporal SDK runtime's
  meter) and logged as one line ops can act on; never a VLO task.
- `DeliveryActivities.poll_statuses` (the delivery-status job, workflows/delivery.py) reads
  Notify's status of every message sent in the last 7 days that is not final, records it, and
  returns the failed ones (permanent, temporary or technical failure) for their workflows to
  open the undelivered task.

Personal data is read from the database and written only to Notify; nothing sent is logged or
returned. Logs and errors carry row ids, kinds and statuses.
"""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import notify
from activities.errors import data_error
from models.audit import AuditDetail, Ref
from models.audit_chain import append_audit
from models.db import session_scope
from models.delivery import (
    CONFIG_FAULT,
    FAILED_STATUSES,
    FINAL_STATUSES,
    REJECTED,
    RETENTION_DAYS,
    DeliveryPollInput,
    LetterUndelivered,
    StatusPollResult,
)
from models.records import Correspondence
from models.victim import Victim
from models.vocabulary import Channel, Language

log = activity.LoggerAdapter(logging.getLogger("vcs.delivery"), None)

CONFIG_FAULT_METRIC = "vcs_notify_config_faults"

# Notify refuses a text message longer than 918 characters (docs "Send a text message"; the
# count includes the service name Notify may put in front: room for one, local policy).
SMS_CHAR_COUNT_LIMIT = 918
SMS_PREFIX_ALLOWANCE = 40
SMS_BUDGET = SMS_CHAR_COUNT_LIMIT - SMS_PREFIX_ALLOWANCE

# A text cut to fit says so, and where the rest is (local policy).
CUT_NOTE: dict[Language, str] = {
    Language.ENGLISH: (
        "This text is not the whole message: it is too long for a text message. Please contact "
        "your Victim Liaison Officer for the rest."
    ),
    Language.WELSH: (
        "Nid dyma'r neges gyfan: mae'n rhy hir i neges destun. Cysylltwch â'ch Swyddog Cyswllt "
        "â Dioddefwyr i gael y gweddill."
    ),
}


def fit_text_message(text: str, language: Language) -> str:
    """The message within Notify's limit. A longer one (a letter with many licence conditions)
    keeps its opening lines, whole, as far as they fit, then says it is cut and whom to ask,
    then its sign-off (the last paragraph)."""
    if len(text) <= SMS_BUDGET:
        return text
    body, _, sign_off = text.rpartition("\n\n")
    tail = f"\n\n{CUT_NOTE[language]}\n\n{sign_off}"
    room = SMS_BUDGET - len(tail)
    kept: list[str] = []
    for line in body.splitlines():
        if len("\n".join([*kept, line])) > room:
            break
        kept.append(line)
    head = "\n".join(kept).rstrip()
    if len([line for line in kept if line.strip()]) < 2:  # only the greeting fits: cut inside
        head = body[: room - 1].rstrip() + "…"
    return head + tail


# ---- sending -------------------------------------------------------------------------------


def deliver(engine: Engine, letter_id: int, subjects: Mapping[Language, str]) -> None:
    """Send one outbox row through Notify, at most once, and record that it was sent (or why
    Notify refused it). `subjects`: an email's subject in each language."""
    try:
        config = notify.config_from_env()
        if config is None:
            log.info("notify not configured: correspondence %s left for manual handling", letter_id)
            return
        sent = _deliver(engine, config, letter_id, subjects)
    except ApplicationError as err:
        if err.type in ("NotifyRejected", "NotifyConfigFault", "NotifyConfigError"):
            _record_refusal(engine, letter_id, err)
        raise
    if sent is not None:
        log.info("correspondence %s sent through Notify: %s", letter_id, sent.notification_id)


def _deliver(
    engine: Engine, config: notify.NotifyConfig, letter_id: int, subjects: Mapping[Language, str]
) -> notify.Sent | None:
    with session_scope(engine) as session:
        # Lock the row before looking: an earlier attempt of this activity still running
        # (one that outlived its timeout) finishes first, and this one then finds it sent.
        session.exec(
            update(Correspondence)
            .where(Correspondence.id == letter_id)  # type: ignore[arg-type]
            .values(sent_at=Correspondence.sent_at)
        )
        letter = session.get(Correspondence, letter_id)
        if letter is None or letter.sent_at is not None:
            return None
        victim = session.get(Victim, letter.victim_id)
        if victim is None or victim.erased_at is not None:
            log.warning(
                "correspondence %s not sent: the victim's personal data has been erased",
                letter_id,
            )
            return None
        client = notify.NotifyClient(config)
        reference = notify.reference_for(letter.idempotency_key)
        sent = client.find(reference)
        if sent is None:
            sent = _send(client, letter, victim, reference, subjects)
        letter.provider_id = sent.notification_id
        letter.sent_at = sent.at
        letter.delivery_status, letter.status_at = "created", sent.at
        session.add(letter)
        append_audit(
            session,
            case_id=letter.case_id,
            victim_id=letter.victim_id,
            actor="engine",
            action="letter_sent",
            detail=AuditDetail.of(letter=letter.id, kind=letter.kind, channel=letter.channel),
        )
        return sent


def _send(
    client: notify.NotifyClient,
    letter: Correspondence,
    victim: Victim,
    reference: str,
    subjects: Mapping[Language, str],
) -> notify.Sent:
    if letter.channel is Channel.EMAIL:
        if not (victim.email and victim.email.strip()):
            raise data_error(f"victim {victim.id} has no email address for letter {letter.id}")
        subject = subjects[letter.language]
        return client.send_email(victim.email.strip(), subject, letter.body, reference)
    if not (victim.phone and victim.phone.strip()):
        raise data_error(f"victim {victim.id} has no phone number for letter {letter.id}")
    text = fit_text_message(letter.body, letter.language)
    return client.send_sms(victim.phone.strip(), text, reference)


def _record_refusal(engine: Engine, letter_id: int, err: ApplicationError) -> None:
    """The outbox shows why the message has not gone; a configuration fault is also counted
    and logged for ops (the error's message is ours: no personal data, no Notify words)."""
    status = REJECTED if err.type == "NotifyRejected" else CONFIG_FAULT
    with session_scope(engine) as session:
        letter = session.get(Correspondence, letter_id)
        if letter is not None and letter.sent_at is None:
            letter.delivery_status, letter.status_at = status, datetime.now(UTC)
            session.add(letter)
    if status == CONFIG_FAULT:
        log.warning("correspondence %s waits: %s", letter_id, err.message)
        if activity.in_activity():
            activity.metric_meter().create_counter(
                CONFIG_FAULT_METRIC,
                "Notify refused our API key, template, settings or content: letters wait",
            ).add(1)


# ---- following each message to a final status ----------------------------------------------


def _owner(letter: Correspondence) -> tuple[str, str, str]:
    """The workflow that sent the letter, what inside it sent it, and the letter's key there:
    every workflow here keys its letters `{workflow}:letter:{key}`, a victim's path inside its
    case's workflow `{case workflow}:victim-{id}:letter:{key}` (models/ids.py victim_key), a
    Parole Board review inside it `{case workflow}:{review ID}:letter:{key}` (review_key)."""
    owner, _, key = letter.idempotency_key.partition(":letter:")
    workflow_id, _, holder = owner.partition(":")
    return workflow_id, holder, key


class DeliveryActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def poll_statuses(self, params: DeliveryPollInput, run_id: str) -> StatusPollResult:
        """Read Notify's status of every message not yet final that Notify still holds (sent in
        the last 7 days), oldest first, and record it. Returns the failures not yet told to
        their workflow: each is marked with this run's id as it is returned, so a
        retry of this run returns it again and a later run never does (exactly once)."""
        config = notify.config_from_env()
        if config is None:
            return StatusPollResult(checked=0, final=0, undelivered=[])
        client = notify.NotifyClient(config)
        since = datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
        with session_scope(self.engine) as session:
            pending = session.exec(
                select(Correspondence.id)
                .where(
                    col(Correspondence.provider_id).is_not(None),
                    col(Correspondence.sent_at) >= since,
                    col(Correspondence.delivery_status).is_(None)
                    | col(Correspondence.delivery_status).not_in(sorted(FINAL_STATUSES)),
                )
                .order_by(col(Correspondence.sent_at))
                .limit(params.limit)
            ).all()
        final = 0
        for letter_id in pending:
            if letter_id is not None and self._follow(client, letter_id):
                final += 1
        with session_scope(self.engine) as session:
            notices = self._undelivered(session, run_id)
        if notices:
            log.info("%s message(s) failed: their workflows are told", len(notices))
        return StatusPollResult(checked=len(pending), final=final, undelivered=notices)

    def _follow(self, client: notify.NotifyClient, letter_id: int) -> bool:
        """Record one message's status; True when it is final."""
        with session_scope(self.engine) as session:
            letter = session.get(Correspondence, letter_id)
            if letter is None or letter.provider_id is None:
                return False
            status = client.status(letter.provider_id)
            if status is None:  # Notify no longer holds it: nothing more can be learnt
                return False
            if status != letter.delivery_status:
                append_audit(
                    session,
                    case_id=letter.case_id,
                    victim_id=letter.victim_id,
                    actor="engine",
                    action="letter_status",
                    detail=AuditDetail.of(
                        letter=letter.id,
                        kind=letter.kind,
                        channel=letter.channel,
                        status=Ref(status),
                    ),
                )
            letter.delivery_status, letter.status_at = status, datetime.now(UTC)
            session.add(letter)
            return status in FINAL_STATUSES

    @staticmethod
    def _undelivered(session: Session, run_id: str) -> list[tuple[str, LetterUndelivered]]:
        rows = session.exec(
            select(Correspondence)
            .where(
                col(Correspondence.delivery_status).in_(sorted(FAILED_STATUSES)),
                col(Correspondence.undelivered_notice).is_(None)
                | (Correspondence.undelivered_notice == run_id),
            )
            .order_by(col(Correspondence.id))
        ).all()
        notices: list[tuple[str, LetterUndelivered]] = []
        for letter in rows:
            assert letter.id is not None
            letter.undelivered_notice = run_id
            session.add(letter)
            workflow_id, holder, key = _owner(letter)
            notices.append(
                (
                    workflow_id,
                    LetterUndelivered(
                        letter_id=letter.id,
                        victim_id=letter.victim_id,
                        kind=letter.kind,
                        key=key,
                        holder=holder,
                    ),
                )
            )
        return notices
