"""Key rotation for the texts sealed at rest (issue 16 item 5; models/rekey.py): after a new key
is made active, `python -m models.rekey` re-seals every stored value under it, so the old key
is no longer needed by the case database; content never appears in its output."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from models import rekey
from models.case_repository import register_case
from models.codec import CodecError, KeyRing
from models.parole_repository import add_vps
from models.sealed import Sealer
from models.victim_repository import add_victim
from tests.conftest import TEST_CODEC_KEY_ID, unique_ref
from tests.helpers import registration, victim

OLD_KEY = b"vcs-test-key-not-for-production!"  # conftest's, active when the rows are written
NEW_KEY = b"another-32-byte-test-key-rotated"
STATEMENT = "What happened to me that night."


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def stored_statements(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text("SELECT text FROM victimpersonalstatement ORDER BY id")
            ).scalars()
        )


def with_statements(engine: Engine, count: int) -> None:
    case_ref = unique_ref("KEY")
    register_case(
        engine, registration(case_ref, datetime.now(UTC).date() - timedelta(days=30)), "v"
    )
    row = add_victim(engine, case_ref, victim(), "vlo.jones")
    assert row.id is not None
    for n in range(count):
        add_vps(engine, f"vcs-parole-{case_ref}-{n + 1}", row.id, STATEMENT, "vlo.jones")


def test_rekey_reseals_every_value_under_the_active_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rekey, "BATCH", 2)  # several batches
    with_statements(engine, 5)
    assert all(v.startswith(f"v1:{TEST_CODEC_KEY_ID}:") for v in stored_statements(engine))
    rotated = Sealer(KeyRing({TEST_CODEC_KEY_ID: OLD_KEY, "2027-01": NEW_KEY}, "2027-01"))
    [counts] = rekey.rekey(engine, rotated)
    assert (counts.column, counts.resealed, counts.current) == (
        "victimpersonalstatement.text",
        5,
        0,
    )
    values = stored_statements(engine)
    assert all(v.startswith("v1:2027-01:") for v in values)
    new_only = Sealer(KeyRing({"2027-01": NEW_KEY}, "2027-01"))  # the old key is gone
    assert [new_only.open(v, "victim personal statement") for v in values] == [STATEMENT] * 5
    [again] = rekey.rekey(engine, rotated)  # safe to run again
    assert (again.resealed, again.current) == (0, 5) and stored_statements(engine) == values


def test_a_value_under_a_key_not_held_is_refused_by_key_id(engine: Engine) -> None:
    with_statements(engine, 1)
    before = stored_statements(engine)
    without_old = Sealer(KeyRing({"2027-01": NEW_KEY}, "2027-01"))
    with pytest.raises(CodecError, match=f"names key '{TEST_CODEC_KEY_ID}', which this process"):
        rekey.rekey(engine, without_old)
    assert stored_statements(engine) == before


def test_the_command_prints_counts_never_content(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with_statements(engine, 2)
    monkeypatch.setenv("VCS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv(
        "VCS_CODEC_KEYS", f"{TEST_CODEC_KEY_ID}:{b64(OLD_KEY)},2027-01:{b64(NEW_KEY)}"
    )
    monkeypatch.setenv("VCS_CODEC_ACTIVE_KEY", "2027-01")
    assert rekey.main() == 0
    out = capsys.readouterr().out
    assert out == (
        "victimpersonalstatement.text: 2 re-sealed under key '2027-01', 0 already under it\n"
    )
    monkeypatch.setenv("VCS_CODEC_KEYS", f"2027-01:{b64(NEW_KEY)}")
    monkeypatch.setenv("VCS_CODEC_ACTIVE_KEY", "2027-01")
    assert rekey.main() == 0  # everything is under the new key now: the old one is not needed
    assert "0 re-sealed" in capsys.readouterr().out
