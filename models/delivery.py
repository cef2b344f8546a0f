"""What becomes of an email or text message after Notify accepts it, and the messages the
delivery-status job exchanges (IDs, kinds and keys only: no personal data).

Notify's statuses (docs.notifications.service.gov.uk, "Get the status of one message"):
created, sending, pending and sent are on the way; delivered, permanent-failure,
temporary-failure and technical-failure are final. Notify keeps a message 7 days by default;
after that its status can no longer be read.
"""

from pydantic import BaseModel

from models.records import Correspondence
from models.vocabulary import Channel, LetterKind

DELIVERED = "delivered"
PERMANENT_FAILURE = "permanent-failure"  # the address or number does not exist or is blocked
TEMPORARY_FAILURE = "temporary-failure"  # inbox full, phone off: Notify gave up after retrying
TECHNICAL_FAILURE = "technical-failure"  # Notify could not pass it to its provider
FINAL_STATUSES = frozenset({DELIVERED, PERMANENT_FAILURE, TEMPORARY_FAILURE, TECHNICAL_FAILURE})
# Ours, for a message Notify refused to take: no Notify status will follow.
REJECTED = "rejected"  # the recipient's address or number is not valid
CONFIG_FAULT = "config-fault"  # our key, template or settings: retried until mended
RETENTION_DAYS = 7  # Notify's default retention: no status can be read after it

# A message that ended in one of these never reached the victim: a VLO reaches them another way
# (the undelivered task). A permanent failure always; a temporary or technical one too, as the
# victim has still not been told (local policy: Notify does not try again after either).
FAILED_STATUSES = frozenset({PERMANENT_FAILURE, TEMPORARY_FAILURE, TECHNICAL_FAILURE})

# How the outbox words a status; Notify's own names otherwise.
OUTBOX_WORDS = {
    "created": "sent to Notify",
    DELIVERED: "delivered",
    PERMANENT_FAILURE: "undelivered (permanent failure: VLO task)",
    TEMPORARY_FAILURE: "undelivered (temporary failure: VLO task)",
    TECHNICAL_FAILURE: "undelivered (Notify technical failure: VLO task)",
    REJECTED: "refused by Notify: address or number not valid (VLO task)",
    CONFIG_FAULT: "waiting: Notify refused our settings (ops alerted)",
}


def delivery_words(letter: Correspondence) -> str:
    """What the outbox says of an email or text: ", delivered", ", not sent yet", ..."""
    if letter.channel not in (Channel.EMAIL, Channel.PHONE):
        return ""
    status = letter.delivery_status or ("sent" if letter.sent_at else "not sent yet")
    return f", {OUTBOX_WORDS.get(status, status)}"


class LetterUndelivered(BaseModel):
    """Told to the workflow that sent a letter: its email or text never reached the victim."""

    letter_id: int
    victim_id: int
    kind: LetterKind
    key: str  # the letter's key within its workflow (the idempotency key after ':letter:')
    # What inside the workflow sent it (a victim's path, a Parole Board review: models/ids.py).
    holder: str = ""


class StatusPollResult(BaseModel):
    checked: int
    final: int
    undelivered: list[tuple[str, LetterUndelivered]]  # (workflow id, notice)


class DeliveryPollInput(BaseModel):
    limit: int = 500  # messages read per run: Notify allows 3,000 requests a minute
