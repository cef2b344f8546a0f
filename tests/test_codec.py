"""Victim data protected in Temporal: the payload codec, key rotation, the codec server, and a
whole custodial lifecycle whose stored history holds no personal data in the clear."""

import asyncio
import base64
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format
from google.protobuf.message import Message
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from codec_server import build_app
from models.codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    KeyRing,
    data_converter,
    load_keys,
)
from models.errors import VcsError
from models.records import LicenceConditionBase
from models.vocabulary import ConditionKind, ContactLevel, LetterKind, Stage
from starter import Vcs
from tests.conftest import TEST_CODEC_KEY_ID, unique_ref
from tests.helpers import (
    eventually,
    letters,
    offered_and_opted_in,
    registration,
    run_until,
    stage,
    victim,
    workflow_status,
)
from worker import build_worker
from workflows.case import case_workflow_id
from workflows.victim import victim_workflow_id

ROOT = Path(__file__).resolve().parent.parent
OLD_KEY = b"old-key-old-key-old-key-old-key!"
NEW_KEY = b"new-key-new-key-new-key-new-key!"
TOKEN = "codec-test-token-0123456789abcdef"
UI_ORIGIN = "http://localhost:8233"

NAME = "Zebedee Quartermain"
ADDRESS = "77 Uniquely Named Road"
POSTCODE = "ZZ9 9QX"
REPRESENTATIONS = "MY-SECRET-REPRESENTATIONS"
CONDITION = "Not to enter Xylophone Mews or Quasar Gardens"
PERSONAL = (NAME, "Zebedee", "Quartermain", ADDRESS, "Uniquely Named", POSTCODE)
SECRETS = (*PERSONAL, REPRESENTATIONS, CONDITION, "Xylophone Mews")


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def codec(active: str = "old", **keys: bytes) -> EncryptionCodec:
    return EncryptionCodec(KeyRing(keys or {"old": OLD_KEY}, active))


def plain(value: object) -> Payload:
    """A value as the pydantic converter writes it, before the codec."""
    [payload] = data_converter().payload_converter.to_payloads([value])
    return payload


def assert_nothing_chained(err: BaseException) -> None:
    """A traceback of the error shows no inner exception (whose text could hold more)."""
    assert err.__cause__ is None
    assert err.__context__ is None or err.__suppress_context__


async def encrypted(value: object, with_codec: EncryptionCodec) -> Payload:
    [sealed] = await with_codec.encode([plain(value)])
    return sealed


# ---- the codec --------------------------------------------------------------------------------


async def test_round_trip_encrypts_every_payload_and_names_its_key() -> None:
    the_codec = codec()
    originals = [plain({"victim": NAME, "address": ADDRESS}), plain(REPRESENTATIONS), plain(42)]
    sealed = await the_codec.encode(originals)
    assert len(sealed) == 3
    for payload in sealed:
        assert dict(payload.metadata) == {"encoding": ENCODING, KEY_ID: b"old"}
        for secret in (NAME, ADDRESS, REPRESENTATIONS, "json/plain"):
            assert secret.encode() not in payload.SerializeToString()
    assert await the_codec.decode(sealed) == originals
    # A fresh nonce each time: the same value never encrypts to the same bytes.
    assert (await the_codec.encode(originals[:1]))[0].data != sealed[0].data


async def test_data_converter_round_trips_models_and_encrypts_failure_messages() -> None:
    converter = data_converter(KeyRing({"k": OLD_KEY}, "k"))
    condition = LicenceConditionBase(
        kind=ConditionKind.NO_CONTACT,
        description=CONDITION,
        victim_related=True,
        starts_on=date(2030, 1, 1),
    )
    payloads = await converter.encode([condition])
    assert CONDITION.encode() not in payloads[0].SerializeToString()
    assert await converter.decode(payloads, [LicenceConditionBase]) == [condition]

    failure = Failure()
    await converter.encode_failure(ApplicationError(f"could not write to {NAME}"), failure)
    assert b"Zebedee" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert str(decoded) == f"could not write to {NAME}"


async def test_history_written_before_encryption_still_decodes() -> None:
    legacy = plain({"case_ref": "DEMO-0001"})
    assert await codec().decode([legacy]) == [legacy]


async def test_payload_from_an_old_key_decodes_after_rotation() -> None:
    before = codec("old", old=OLD_KEY)
    sealed = await before.encode([plain(REPRESENTATIONS)])
    after = codec("new", old=OLD_KEY, new=NEW_KEY)
    assert await after.decode(sealed) == [plain(REPRESENTATIONS)]
    [fresh] = await after.encode([plain(REPRESENTATIONS)])
    assert fresh.metadata[KEY_ID] == b"new"
    assert await after.decode([fresh]) == [plain(REPRESENTATIONS)]


async def test_rotation_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCS_CODEC_KEYS", f"2026-01:{b64(OLD_KEY)}")
    monkeypatch.setenv("VCS_CODEC_ACTIVE_KEY", "2026-01")
    old_converter = data_converter()
    sealed = await old_converter.encode([{"victim": NAME}])

    monkeypatch.setenv("VCS_CODEC_KEYS", f"2026-01:{b64(OLD_KEY)}, 2026-07:{b64(NEW_KEY)}")
    monkeypatch.setenv("VCS_CODEC_ACTIVE_KEY", "2026-07")
    new_converter = data_converter()
    assert await new_converter.decode(sealed) == [{"victim": NAME}]
    [fresh] = await new_converter.encode([{"victim": NAME}])
    assert fresh.metadata[KEY_ID] == b"2026-07"


async def test_unknown_key_id_is_a_clear_error_without_content() -> None:
    sealed = await codec("old", old=OLD_KEY).encode([plain({"victim": NAME})])
    with pytest.raises(CodecError) as caught:
        await codec("new", new=NEW_KEY).decode(sealed)
    message = str(caught.value)
    assert "'old'" in message and "does not hold" in message and "VCS_CODEC_KEYS" in message
    assert_nothing_chained(caught.value)
    for secret in (*PERSONAL, b64(OLD_KEY), b64(NEW_KEY)):
        assert secret not in message
    assert isinstance(caught.value, VcsError)  # the CLI prints it as one "error:" line


async def test_tampered_ciphertext_is_rejected() -> None:
    the_codec = codec("old", old=OLD_KEY, other=NEW_KEY)
    [sealed] = await the_codec.encode([plain({"victim": NAME})])

    flipped = Payload()
    flipped.CopyFrom(sealed)
    data = bytearray(flipped.data)
    data[20] ^= 0x01
    flipped.data = bytes(data)

    relabelled = Payload()  # the key id is authenticated: moving a payload to another key fails
    relabelled.CopyFrom(sealed)
    relabelled.metadata[KEY_ID] = b"other"

    truncated = Payload()
    truncated.CopyFrom(sealed)
    truncated.data = sealed.data[:20]

    for bad in (flipped, relabelled, truncated):
        with pytest.raises(CodecError, match=r"failed authentication|truncated") as caught:
            await the_codec.decode([bad])
        assert "Zebedee" not in str(caught.value)
        assert_nothing_chained(caught.value)


# ---- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "active", "complaint"),
    [
        (f"a:{b64(OLD_KEY)}", "b", "active codec key 'b' is not among the keys held (a)"),
        (f"a:{b64(OLD_KEY[:24])}", "a", "codec key 'a' is 24 bytes, not 32"),
        ("a:not base64!!", "a", "VCS_CODEC_KEYS: key 'a' is not valid base64"),
        (f"{b64(OLD_KEY)}", "a", "entry 1 is not kid:base64key"),
        (f"a:{b64(OLD_KEY)},a:{b64(NEW_KEY)}", "a", "key id 'a' appears twice"),
        (f"bad id:{b64(OLD_KEY)}", "bad id", "is not 1-64 letters"),
        (f"a:{b64(OLD_KEY)}", "", "set both VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY"),
        ("", "a", "set both VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY"),
    ],
)
def test_bad_key_configuration_is_refused_without_revealing_keys(
    monkeypatch: pytest.MonkeyPatch, keys: str, active: str, complaint: str
) -> None:
    monkeypatch.setenv("VCS_CODEC_KEYS", keys)
    monkeypatch.setenv("VCS_CODEC_ACTIVE_KEY", active)
    with pytest.raises(CodecError) as caught:
        load_keys()
    assert complaint in str(caught.value)
    for key in (OLD_KEY, NEW_KEY):
        assert b64(key) not in str(caught.value) and b64(key[:24]) not in str(caught.value)


async def test_development_key_file_is_created_private_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VCS_CODEC_KEYS")
    monkeypatch.delenv("VCS_CODEC_ACTIVE_KEY")
    key_file = tmp_path / "data" / "codec-keys"
    first = load_keys(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.active.startswith("dev-") and list(first.keys) == [first.active]
    assert load_keys(key_file) == first
    assert [p.name for p in key_file.parent.iterdir()] == ["codec-keys"]  # no temp file left
    sealed = await EncryptionCodec(first).encode([plain({"victim": NAME})])

    # Rotating on a development machine: append a key; the last one is the active one.
    with key_file.open("a") as out:
        out.write(f"dev-next:{b64(NEW_KEY)}\n")
    rotated = load_keys(key_file)
    assert rotated.active == "dev-next"
    assert await EncryptionCodec(rotated).decode(sealed) == [plain({"victim": NAME})]


def test_unusable_development_key_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VCS_CODEC_KEYS")
    monkeypatch.delenv("VCS_CODEC_ACTIVE_KEY")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(CodecError, match="set VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY"):
        load_keys(blocker / "codec-keys")


# ---- the codec server -------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = build_app(codec("old", old=OLD_KEY), TOKEN, [UI_ORIGIN, "https://ui.example.org"])
    async with TestClient(TestServer(app)) as client:
        yield client


def as_json(payloads: list[Payload]) -> dict[str, object]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Namespace": "default"}


async def test_codec_server_requires_the_token(
    server: TestClient[web.Request, web.Application],
) -> None:
    body = as_json([await encrypted({"victim": NAME}, codec())])
    for headers in ({}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer "}):
        response = await server.post("/decode", json=body, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert NAME not in await response.text()
    for token in ("wrong-token-wrong-token-wrong", TOKEN[:-1], TOKEN + "x", "é" * 20):
        response = await server.post("/decode", json=body, headers=bearer(token))
        assert response.status == 403
        assert NAME not in await response.text()
    assert (await server.post("/encode", json=body)).status == 401


async def test_codec_server_decodes_to_the_original_json(
    server: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    original = {"victim": NAME, "address": ADDRESS, "representations": REPRESENTATIONS}
    sealed = await encrypted(original, codec())
    legacy = plain({"case_ref": "DEMO-0001"})
    with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
        response = await server.post("/decode", json=as_json([sealed, legacy]), headers=bearer())
        assert response.status == 200, await response.text()
        decoded = (await response.json())["payloads"]
    assert [json.loads(base64.b64decode(p["data"])) for p in decoded] == [
        original,
        {"case_ref": "DEMO-0001"},
    ]
    assert base64.b64decode(decoded[0]["metadata"]["encoding"]) == b"json/plain"
    # Logged: what was asked and how it went; never the content, never the token.
    assert "POST /decode -> 200 (2 payloads) namespace='default'" in caplog.text
    for secret in (*SECRETS, TOKEN, sealed.data.hex()):
        assert secret not in caplog.text


async def test_codec_server_encode_then_decode(
    server: TestClient[web.Request, web.Application],
) -> None:
    response = await server.post(
        "/encode", json=as_json([plain({"victim": NAME})]), headers=bearer()
    )
    assert response.status == 200
    sealed = json_format.ParseDict(await response.json(), Payloads()).payloads
    assert sealed[0].metadata["encoding"] == ENCODING
    assert NAME.encode() not in sealed[0].SerializeToString()
    response = await server.post("/decode", json=as_json(list(sealed)), headers=bearer())
    decoded = json_format.ParseDict(await response.json(), Payloads()).payloads
    assert list(decoded) == [plain({"victim": NAME})]


async def test_codec_server_refuses_what_it_cannot_decode_without_content(
    server: TestClient[web.Request, web.Application],
) -> None:
    foreign = await codec("new", new=NEW_KEY).encode([plain({"victim": NAME})])
    response = await server.post("/decode", json=as_json(foreign), headers=bearer())
    assert response.status == 422
    assert "codec key 'new'" in (await response.json())["error"]

    garbage = f'{{"payloads": [{{"data": "{NAME}"}}]}}'
    response = await server.post(
        "/decode", data=garbage, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert NAME not in await response.text()
    response = await server.post("/decode", data="x", headers=bearer())
    assert response.status == 415


async def test_codec_server_cors_for_the_web_ui(
    server: TestClient[web.Request, web.Application],
) -> None:
    preflight = {
        "Origin": UI_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    response = await server.options("/decode", headers=preflight)
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert (await server.options("/encode", headers=preflight)).status == 204

    response = await server.options("/decode", headers={**preflight, "Origin": "https://evil.test"})
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers

    # The answers themselves carry the header too (refusals included, so the UI can read them).
    body = as_json([await encrypted({"x": 1}, codec())])
    ok = await server.post("/decode", json=body, headers={**bearer(), "Origin": UI_ORIGIN})
    assert ok.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    refused = await server.post("/decode", json=body, headers={"Origin": UI_ORIGIN})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    other = await server.post("/decode", json=body, headers={**bearer(), "Origin": "http://x"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_codec_server_refuses_a_short_token() -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        build_app(codec(), "short", [UI_ORIGIN])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def codec_server_process() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python codec_server.py` as deployed, on a free port, with the suite's test keys."""
    port = free_port()
    env = {**os.environ, "VCS_CODEC_TOKEN": TOKEN, "VCS_CODEC_PORT": str(port)}
    env.pop("VCS_CODEC_HOST", None)
    process = subprocess.Popen(
        [sys.executable, "codec_server.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_codec_server_runs_as_a_script(
    codec_server_process: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, process = codec_server_process
    sealed = await data_converter().encode([{"victim": NAME}])
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(100):
            try:
                response = await client.post("/decode", json=as_json(sealed))
                break
            except httpx.ConnectError:
                assert process.poll() is None, "codec_server.py exited"
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("codec_server.py did not start listening")
        assert response.status_code == 401
        response = await client.post(
            "/decode", json=as_json(sealed), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 200
        [payload] = response.json()["payloads"]
        assert json.loads(base64.b64decode(payload["data"])) == {"victim": NAME}
    process.terminate()
    output = process.communicate(timeout=10)[0].decode()
    assert "POST /decode -> 200 (1 payloads)" in output
    assert f"keys {TEST_CODEC_KEY_ID} (active {TEST_CODEC_KEY_ID})" in output
    for secret in (NAME, TOKEN):
        assert secret not in output


def test_codec_server_will_not_start_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "VCS_CODEC_TOKEN"}
    result = subprocess.run(
        [sys.executable, "codec_server.py"], cwd=ROOT, env=env, capture_output=True, timeout=30
    )
    assert result.returncode == 1
    assert result.stderr.decode().strip() == (
        "error: set VCS_CODEC_TOKEN (for example: openssl rand -hex 32)"
    )


# ---- a whole lifecycle, read back from Temporal's store ---------------------------------------


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload anywhere inside a protobuf message, with where it was."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is None:
                continue
            items = [(f"{name}[{key}]", item) for key, item in value.items()]
        elif field.is_repeated:
            items = [(f"{name}[{i}]", item) for i, item in enumerate(value)]
        else:
            items = [(name, value)]
        for where, item in items:
            if isinstance(item, Payload):
                yield where, item
            else:
                yield from payloads_in(item, where)


async def stored_histories(client: Client, workflow_id: str) -> list[History]:
    """The history of every run of a workflow (following continue-as-new), as stored: the
    client returns the raw events, and nothing here decodes them."""
    histories: list[History] = []
    run_id: str | None = None
    while True:
        fetched = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(History(events=fetched.events))
        started = fetched.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return histories
        run_id = started.continued_execution_run_id


@pytest.mark.usefixtures("cleanup_workflows")
async def test_stored_history_of_a_whole_lifecycle_holds_no_victim_data_in_the_clear(
    time_skipping_env: WorkflowEnvironment, engine: Engine, task_queue: str
) -> None:
    env = time_skipping_env
    today = (await env.get_current_time()).date()
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("ENC")
    reg = registration(case_ref, today, term_months=24)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, by="vlo.jones")
        victim_id, victim_wf = await vcs.add_victim(
            case_ref, victim(NAME, address=ADDRESS, postcode=POSTCODE), by="vlo.jones"
        )
        await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
        assert stage(engine, victim_id) is Stage.OPTED_IN

        await env.sleep(timedelta(days=(release - today).days - 119))
        await eventually(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, victim_id))
        await vcs.submit_representations(victim_id, REPRESENTATIONS, by="vlo.jones")
        await vcs.record_conditions(
            case_ref,
            [
                LicenceConditionBase(
                    kind=ConditionKind.EXCLUSION_ZONE,
                    description=CONDITION,
                    victim_related=True,
                    starts_on=release,
                )
            ],
            by="vlo.jones",
        )
        await eventually(lambda: LetterKind.CONDITIONS_IMPOSED in letters(engine, victim_id))
        await run_until(env, release)
        await vcs.record_release(case_ref, release, by="vlo.jones")
        await eventually(lambda: LetterKind.RELEASE in letters(engine, victim_id))
        await run_until(env, reg.licence_expiry_date)
        await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
        assert await workflow_status(env, victim_wf) == "COMPLETED"

    converter = data_converter()
    for workflow_id in (case_workflow_id(case_ref), victim_workflow_id(case_ref, victim_id)):
        for history in await stored_histories(env.client, workflow_id):
            raw = history.SerializeToString()  # bytes fields embedded as they are stored
            assert task_queue.encode() in raw  # the search below does see plain text
            for secret in SECRETS:
                assert secret.lower().encode() not in raw.lower(), (
                    f"{secret!r} is in the stored history of {workflow_id}"
                )
            found = list(payloads_in(history))
            # Search attributes are indexed by the server, so never encrypted: IDs only.
            encrypted_ones = [(w, p) for w, p in found if ".search_attributes." not in w]
            assert len(encrypted_ones) >= 3, f"{workflow_id}: found only {found}"
            for where, payload in encrypted_ones:
                assert payload.metadata["encoding"] == ENCODING, f"{workflow_id} {where} in clear"
                assert payload.metadata[KEY_ID] == TEST_CODEC_KEY_ID.encode()
            # ...and what was stored is still the workflow's input, to whoever holds the key.
            started = history.events[0].workflow_execution_started_event_attributes
            [first_input] = await converter.decode(started.input.payloads)
            assert case_ref in json.dumps(first_input)
