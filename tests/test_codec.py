"""Victim data protected in Temporal: the payload codec, key rotation, the codec server, and a
whole custodial lifecycle whose stored history holds no personal data in the clear."""

import asyncio
import base64
import hmac
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from google.protobuf import json_format
from google.protobuf.message import Message
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from codec_server import OidcSettings, build_app, settings_from_env
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
from models.policy import current_policy
from models.records import LicenceConditionBase
from models.release_month import ReleaseMonth, release_told_on
from models.vocabulary import ConditionKind, ContactLevel, LetterKind, Stage
from models.working_days import london_date
from service.vcs import Vcs
from tests.conftest import TEST_CODEC_KEY_ID, unique_ref
from tests.helpers import (
    VLO_ACTOR,
    eventually,
    letters,
    offered_and_opted_in,
    registration,
    run_until,
    stage,
    until_quiet,
    victim,
    workflow_status,
)
from worker import build_worker
from workflows.case import case_workflow_id

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


def test_no_keys_without_the_development_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A production process never makes a key of its own: with no key configured and no
    VCS_DEVELOPMENT=1, it refuses (issue 16 item 5), and writes no key file."""
    monkeypatch.delenv("VCS_CODEC_KEYS")
    monkeypatch.delenv("VCS_CODEC_ACTIVE_KEY")
    key_file = tmp_path / "data" / "codec-keys"
    for setting in (None, "0", "yes"):
        if setting is None:
            monkeypatch.delenv("VCS_DEVELOPMENT", raising=False)
        else:
            monkeypatch.setenv("VCS_DEVELOPMENT", setting)
        with pytest.raises(CodecError) as caught:
            load_keys(key_file)
        assert str(caught.value).startswith("no payload keys: set VCS_CODEC_KEYS and ")
        assert "VCS_DEVELOPMENT=1" in str(caught.value) and "\n" not in str(caught.value)
    assert not key_file.parent.exists()


async def test_development_key_file_is_created_private_and_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VCS_CODEC_KEYS")
    monkeypatch.delenv("VCS_CODEC_ACTIVE_KEY")
    monkeypatch.setenv("VCS_DEVELOPMENT", "1")
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
    monkeypatch.setenv("VCS_DEVELOPMENT", "1")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(CodecError, match="set VCS_CODEC_KEYS and VCS_CODEC_ACTIVE_KEY"):
        load_keys(blocker / "codec-keys")


# ---- the codec server -------------------------------------------------------------------------

# The Web UI's sign-in, as the tests play it: an issuer with a key set served on 127.0.0.1.
ISSUER = "https://login.vcs.test/realms/probation"
AUDIENCE = "vcs-codec"
ROLE = "vcs-codec-decode"
ENCODE_ROLE = "vcs-codec-encode"
SUB = "ops-user-4711"
RSA_KID, EC_KID = "test-rsa-1", "test-ec-1"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def jwks_document() -> dict[str, object]:
    rsa_jwk = RSAAlgorithm.to_jwk(RSA_KEY.public_key(), as_dict=True)
    ec_jwk = ECAlgorithm.to_jwk(EC_KEY.public_key(), as_dict=True)
    return {
        "keys": [
            {**rsa_jwk, "kid": RSA_KID, "use": "sig", "alg": "RS256"},
            {**ec_jwk, "kid": EC_KID, "use": "sig", "alg": "ES256"},
        ]
    }


@dataclass
class Issuer:
    jwks_url: str
    fetches: int = 0


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    """The identity provider's JWKS endpoint, counting how often it is fetched."""

    async def jwks(request: web.Request) -> web.Response:
        served.fetches += 1
        return web.json_response(jwks_document())

    app = web.Application()
    app.router.add_get("/certs", jwks)
    async with TestServer(app, host="127.0.0.1") as jwks_server:
        served = Issuer(str(jwks_server.make_url("/certs")))
        yield served


def oidc_settings(jwks_url: str, **overrides: str) -> OidcSettings:
    return OidcSettings(
        **{"issuer": ISSUER, "audience": AUDIENCE, "jwks_url": jwks_url, **overrides}
    )


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUB,
        "iat": now,
        "exp": now + 300,
        "roles": [ROLE, "other-role"],
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def mint(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = RSA_KEY,
    algorithm: str = "RS256",
    kid: str = RSA_KID,
    more: Mapping[str, object] | None = None,
    **overrides: object,
) -> str:
    """An access token as the identity provider would sign it (None drops a claim; `more`
    adds claims whose names are not Python names)."""
    payload = claims(**overrides, **(more or {}))
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(alg: str, secret: bytes | None) -> str:
    """A token put together by hand: PyJWT itself refuses to sign these."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": RSA_KID}).encode())
    signing_input = f"{header}.{b64url(json.dumps(claims()).encode())}"
    if secret is None:
        return f"{signing_input}."
    return f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), 'sha256').digest())}"


@pytest.fixture
async def server() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The break-glass token only."""
    app = build_app(codec("old", old=OLD_KEY), [UI_ORIGIN, "https://ui.example.org"], token=TOKEN)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def ui_server(issuer: Issuer) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The Web UI's sign-in only: no break-glass token configured."""
    app = build_app(codec("old", old=OLD_KEY), [UI_ORIGIN], oidc=oidc_settings(issuer.jwks_url))
    async with TestClient(TestServer(app)) as client:
        yield client


def as_json(payloads: list[Payload]) -> dict[str, object]:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Namespace": "default"}


def log_line(caplog: pytest.LogCaptureFixture, start: str) -> logging.LogRecord:
    [record] = [r for r in caplog.records if r.getMessage().startswith(start)]
    return record


async def test_codec_server_requires_the_token(
    server: TestClient[web.Request, web.Application],
) -> None:
    body = as_json([await encrypted({"victim": NAME}, codec())])
    for headers in ({}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer "}):
        response = await server.post("/decode", json=body, headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert NAME not in await response.text()
    for token in ("wrong-token-wrong-token-wrong", TOKEN[:-1], TOKEN + "x", "é" * 20, mint()):
        # Without OIDC settings, even a well-signed access token is just a wrong token.
        response = await server.post("/decode", json=body, headers=bearer(token))
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
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
    # Logged: what was asked, by what, and how it went; never the content, never the token.
    # The break-glass token names nobody, so its every use is a warning.
    record = log_line(caplog, "POST /decode -> 200 (2 payloads) namespace='default'")
    assert "token=break-glass" in record.getMessage()
    assert record.levelno == logging.WARNING
    for secret in (*SECRETS, TOKEN, sealed.data.hex()):
        assert secret not in caplog.text


async def test_web_ui_token_with_the_role_decodes_and_the_log_names_who(
    ui_server: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    original = {"victim": NAME, "address": ADDRESS}
    sealed = await encrypted(original, codec())
    token = mint()
    with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
        response = await ui_server.post("/decode", json=as_json([sealed]), headers=bearer(token))
        assert response.status == 200, await response.text()
        [payload] = (await response.json())["payloads"]
    assert json.loads(base64.b64decode(payload["data"])) == original
    # Who decoded, and how much: for accountability. Nothing of the content, nor the token.
    record = log_line(caplog, "POST /decode -> 200 (1 payloads)")
    assert f"sub='{SUB}'" in record.getMessage()
    assert record.levelno == logging.INFO
    for secret in (*SECRETS, token, token.split(".")[2], sealed.data.hex(), payload["data"]):
        assert secret not in caplog.text

    # ES256 too; and the role claim may be one space-separated string (an OAuth scope style).
    for token in (
        mint(EC_KEY, "ES256", EC_KID),
        mint(roles=f"openid {ROLE} profile"),
        mint(roles=[ROLE]),
    ):
        response = await ui_server.post("/decode", json=as_json([sealed]), headers=bearer(token))
        assert response.status == 200, await response.text()


async def test_encode_needs_its_own_role_and_never_the_break_glass_token(
    issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    """Local policy (issue 16): the decode role shows payloads; sealing a payload of one's
    choice under the engine's keys (a forged input, signal or result) needs the encode role.
    The Web UI never encodes; the `temporal` CLI does only to send an input."""
    app = build_app(codec(), [UI_ORIGIN], token=TOKEN, oidc=oidc_settings(issuer.jwks_url))
    body = as_json([plain({"victim": NAME})])
    async with TestClient(TestServer(app)) as client:
        with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
            for token, status in (
                (mint(), 403),  # the decode role only
                (TOKEN, 403),  # break-glass: decode only
                (mint(roles=[ENCODE_ROLE]), 200),
            ):
                response = await client.post("/encode", json=body, headers=bearer(token))
                assert response.status == status, await response.text()
            # The decode role still decodes, and the encode role alone does not.
            sealed = as_json([await encrypted({"victim": NAME}, codec())])
            assert (await client.post("/decode", json=sealed, headers=bearer())).status == 200
            decode = await client.post(
                "/decode", json=sealed, headers=bearer(mint(roles=[ENCODE_ROLE]))
            )
            assert decode.status == 403
        sealed_by_encoder = (await response.json())["payloads"]
    assert (
        f"POST /encode -> 403 namespace='default' sub='{SUB}' refused='no role {ENCODE_ROLE}'"
        in (caplog.text)
    )
    assert "refused='break-glass token may not encode'" in caplog.text
    assert "POST /encode -> 200 (1 payloads)" in caplog.text
    assert NAME not in caplog.text
    assert base64.b64decode(sealed_by_encoder[0]["metadata"]["encoding"]) == ENCODING


async def test_decode_log_names_the_user_and_the_workflow(
    ui_server: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    """The Web UI sends X-Namespace but no workflow: the browser's Referer (the UI's page, on
    the same origin behind the ops gateway) names it. Without one the log says '?'."""
    sealed = as_json([await encrypted({"victim": NAME}, codec())])
    page = "https://ops.vcs.example/namespaces/default/workflows/case-LDS-2026-0042/run-1/history"
    with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
        headers = {**bearer(mint()), "Referer": page}
        assert (await ui_server.post("/decode", json=sealed, headers=headers)).status == 200
        assert (await ui_server.post("/decode", json=sealed, headers=bearer(mint()))).status == 200
    named = log_line(
        caplog,
        f"POST /decode -> 200 (1 payloads) namespace='default' sub='{SUB}' "
        "workflow='case-LDS-2026-0042' from ",
    )
    assert named.levelno == logging.INFO
    assert f"sub='{SUB}' workflow='?' from " in caplog.text
    assert NAME not in caplog.text


async def test_health_endpoint_needs_no_token_and_says_nothing_else(
    ui_server: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
        response = await ui_server.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert "/healthz" not in caplog.text  # the healthcheck does not drown the decode log


async def test_web_ui_token_without_the_role_is_forbidden(
    ui_server: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    body = as_json([await encrypted({"victim": NAME}, codec())])
    for roles in (None, [], ["other-role"], [f"{ROLE}-x"], ROLE + "x other", {ROLE: True}, 1):
        with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
            caplog.clear()
            response = await ui_server.post("/decode", json=body, headers=bearer(mint(roles=roles)))
        assert response.status == 403, roles
        assert ROLE in (await response.json())["error"]
        assert NAME not in await response.text()
        # The refusal is logged with who was refused.
        assert f"-> 403 namespace='default' sub='{SUB}' refused='no role {ROLE}'" in caplog.text


async def test_invalid_web_ui_tokens_are_refused(
    ui_server: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    body = as_json([await encrypted({"victim": NAME}, codec())])
    now = int(time.time())
    unsigned = mint(roles=None)
    header, _, signature = unsigned.split(".")
    tampered = f"{header}.{b64url(json.dumps(claims()).encode())}.{signature}"
    refused = {
        "wrong audience": mint(aud="some-other-service"),
        "wrong issuer": mint(iss="https://login.evil.test/"),
        "expired": mint(exp=now - 120, iat=now - 420),
        "signed by another key": mint(OTHER_RSA_KEY),
        "signed by a key the issuer does not publish": mint(OTHER_RSA_KEY, kid="other"),
        "alg none": forge("none", None),
        "HS256 keyed with the public key": forge("HS256", RSA_PUBLIC_PEM),
        "RS512 (not accepted)": mint(algorithm="RS512"),
        "ES256 naming the RSA key": mint(EC_KEY, "ES256", RSA_KID),
        "roles added after signing": tampered,
        "no sub": mint(sub=None),
        "no exp": mint(exp=None),
        "not a JWT": "not-a-jwt-at-all-not-a-jwt",
        "the break-glass token, not configured here": TOKEN,
    }
    for what, token in refused.items():
        with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
            response = await ui_server.post("/decode", json=body, headers=bearer(token))
        assert response.status == 401, what
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"', what
        assert NAME not in await response.text(), what
    assert "-> 401 namespace='default' refused='expired'" in caplog.text
    assert "refused='wrong audience'" in caplog.text
    assert "refused='wrong issuer'" in caplog.text
    assert "refused='bad signature'" in caplog.text
    assert "refused='algorithm not accepted'" in caplog.text
    assert "-> 200" not in caplog.text
    for token in refused.values():
        assert token not in caplog.text


async def test_break_glass_token_beside_web_ui_sign_in(issuer: Issuer) -> None:
    app = build_app(codec(), [UI_ORIGIN], token=TOKEN, oidc=oidc_settings(issuer.jwks_url))
    body = as_json([await encrypted({"victim": NAME}, codec())])
    async with TestClient(TestServer(app)) as client:
        for token in (TOKEN, mint()):
            assert (await client.post("/decode", json=body, headers=bearer(token))).status == 200
        for token in (TOKEN[:-1], mint(aud="x")):
            assert (await client.post("/decode", json=body, headers=bearer(token))).status == 401
        assert (
            await client.post("/decode", json=body, headers=bearer(mint(roles=[])))
        ).status == 403


async def test_issuer_keys_are_fetched_once_and_cached(issuer: Issuer) -> None:
    app = build_app(codec(), [UI_ORIGIN], oidc=oidc_settings(issuer.jwks_url))
    body = as_json([await encrypted({"victim": NAME}, codec())])
    async with TestClient(TestServer(app)) as client:
        assert issuer.fetches == 1  # at start-up: a wrong URL shows in the log at once
        for token in (mint(), mint(), mint(EC_KEY, "ES256", EC_KID), mint(sub="another")):
            assert (await client.post("/decode", json=body, headers=bearer(token))).status == 200
        # Unknown key ids cannot make the server hammer the issuer (one refetch per 30 s).
        for kid in ("unknown-1", "unknown-2", "unknown-3"):
            response = await client.post("/decode", json=body, headers=bearer(mint(kid=kid)))
            assert response.status == 401
    assert issuer.fetches <= 2


async def test_role_claim_may_be_nested_or_named_by_url(issuer: Issuer) -> None:
    body = as_json([await encrypted({"victim": NAME}, codec())])
    for role_claim, role, token in (
        ("realm_access.roles", ROLE, mint(roles=None, realm_access={"roles": [ROLE]})),  # Keycloak
        ("https://vcs.example/roles", ROLE, mint(more={"https://vcs.example/roles": [ROLE]})),
        ("groups", "vcs-ops", mint(groups=["ops", "vcs-ops"])),
    ):
        settings = oidc_settings(issuer.jwks_url, role_claim=role_claim, required_role=role)
        async with TestClient(TestServer(build_app(codec(), [], oidc=settings))) as client:
            response = await client.post("/decode", json=body, headers=bearer(token))
            assert response.status == 200, role_claim
            response = await client.post("/decode", json=body, headers=bearer(mint()))
            assert response.status == 403, role_claim  # `roles` is not the claim configured


async def test_unreachable_issuer_keys_are_a_503_not_a_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = oidc_settings(f"http://127.0.0.1:{free_port()}/certs")
    body = as_json([await encrypted({"victim": NAME}, codec())])
    with caplog.at_level(logging.INFO, logger="vcs.codec_server"):
        async with TestClient(TestServer(build_app(codec(), [], oidc=settings))) as client:
            response = await client.post("/decode", json=body, headers=bearer(mint()))
            assert response.status == 503
            assert NAME not in await response.text()
    assert "cannot fetch the token issuer's keys" in caplog.text


def test_oidc_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="must be an https:// URL"):
        oidc_settings("http://login.vcs.test/certs")  # keys in the clear could be swapped
    with pytest.raises(ValueError, match="VCS_CODEC_OIDC_AUDIENCE is empty"):
        oidc_settings("https://login.vcs.test/certs", audience=" ")
    oidc_settings("https://login.vcs.test/certs")
    oidc_settings("http://localhost:8080/certs")


def test_codec_server_refuses_a_short_token() -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        build_app(codec(), [UI_ORIGIN], token="short")


def test_codec_server_needs_a_way_in() -> None:
    with pytest.raises(ValueError, match="VCS_CODEC_OIDC_ISSUER, VCS_CODEC_OIDC_AUDIENCE"):
        build_app(codec(), [UI_ORIGIN])


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (*OIDC_VARIABLES, "VCS_CODEC_TOKEN", "VCS_CODEC_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="or VCS_CODEC_TOKEN"):
        settings_from_env()
    monkeypatch.setenv("VCS_CODEC_TOKEN", TOKEN)
    assert settings_from_env() == (TOKEN, None)
    monkeypatch.setenv("VCS_CODEC_OIDC_ISSUER", ISSUER)
    with pytest.raises(
        ValueError, match="set VCS_CODEC_OIDC_AUDIENCE and VCS_CODEC_OIDC_JWKS_URL too"
    ):
        settings_from_env()
    monkeypatch.setenv("VCS_CODEC_OIDC_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("VCS_CODEC_OIDC_JWKS_URL", "https://login.vcs.test/certs")
    monkeypatch.setenv("VCS_CODEC_OIDC_ROLE_CLAIM", "")  # as compose passes an unset one
    monkeypatch.delenv("VCS_CODEC_TOKEN")
    assert settings_from_env() == (
        None,
        OidcSettings(ISSUER, AUDIENCE, "https://login.vcs.test/certs", "roles", ROLE),
    )
    monkeypatch.setenv("VCS_CODEC_OIDC_ENCODE_ROLE", "ops-encode")
    oidc = settings_from_env()[1]
    assert oidc is not None and oidc.encode_role == "ops-encode"
    # The break-glass token from a secret file (compose `secrets:`), not the environment.
    token_file = tmp_path / "codec_token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setenv("VCS_CODEC_TOKEN_FILE", str(token_file))
    assert settings_from_env()[0] == TOKEN
    monkeypatch.setenv("VCS_CODEC_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=r"^VCS_CODEC_TOKEN_FILE=.*missing: cannot read it"):
        settings_from_env()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


OIDC_VARIABLES = (
    "VCS_CODEC_OIDC_ISSUER",
    "VCS_CODEC_OIDC_AUDIENCE",
    "VCS_CODEC_OIDC_JWKS_URL",
    "VCS_CODEC_OIDC_ROLE_CLAIM",
    "VCS_CODEC_OIDC_REQUIRED_ROLE",
    "VCS_CODEC_OIDC_ENCODE_ROLE",
)


def clean_env(**settings: str) -> dict[str, str]:
    """The suite's environment (its test keys) without any codec server access settings."""
    drop = {*OIDC_VARIABLES, "VCS_CODEC_TOKEN", "VCS_CODEC_TOKEN_FILE", "VCS_CODEC_HOST"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **settings}


@pytest.fixture
def codec_server_process(issuer: Issuer) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python codec_server.py` as deployed, on a free port, with the suite's test keys, taking
    the Web UI's tokens and the break-glass token."""
    port = free_port()
    env = clean_env(
        VCS_CODEC_TOKEN=TOKEN,
        VCS_CODEC_PORT=str(port),
        VCS_CODEC_OIDC_ISSUER=ISSUER,
        VCS_CODEC_OIDC_AUDIENCE=AUDIENCE,
        VCS_CODEC_OIDC_JWKS_URL=issuer.jwks_url,
    )
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
    token = mint()
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
        for secret in (token, TOKEN):  # the Web UI's user, then the CLI's break-glass token
            response = await client.post(
                "/decode", json=as_json(sealed), headers={"Authorization": f"Bearer {secret}"}
            )
            assert response.status_code == 200
            [payload] = response.json()["payloads"]
            assert json.loads(base64.b64decode(payload["data"])) == {"victim": NAME}
        response = await client.post(
            "/decode",
            json=as_json(sealed),
            headers={"Authorization": f"Bearer {mint(roles=['someone-else'])}"},
        )
        assert response.status_code == 403
    process.terminate()
    output = process.communicate(timeout=10)[0].decode()
    assert f"POST /decode -> 200 (1 payloads) namespace='' sub='{SUB}' workflow='?'" in output
    assert "POST /decode -> 200 (1 payloads) namespace='' token=break-glass" in output
    assert f"keys {TEST_CODEC_KEY_ID} (active {TEST_CODEC_KEY_ID})" in output
    assert (
        f"accepts Web UI tokens from {ISSUER} for audience {AUDIENCE} with role "
        f"'{ROLE}' (encode: 'vcs-codec-encode') in claim 'roles' and the break-glass token"
    ) in output
    assert f"token issuer's signing keys: {RSA_KID}, {EC_KID}" in output
    for secret in (NAME, TOKEN, token):
        assert secret not in output


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {},
            "set VCS_CODEC_OIDC_ISSUER, VCS_CODEC_OIDC_AUDIENCE and VCS_CODEC_OIDC_JWKS_URL "
            "(Web UI sign-in), or VCS_CODEC_TOKEN (break-glass, for the CLI: openssl rand -hex "
            "32), or both",
        ),
        (
            {"VCS_CODEC_OIDC_ISSUER": ISSUER, "VCS_CODEC_TOKEN": TOKEN},
            "set VCS_CODEC_OIDC_AUDIENCE and VCS_CODEC_OIDC_JWKS_URL too, for the Web UI's "
            "sign-in (or none of VCS_CODEC_OIDC_ISSUER, VCS_CODEC_OIDC_AUDIENCE, "
            "VCS_CODEC_OIDC_JWKS_URL)",
        ),
        (
            {
                "VCS_CODEC_OIDC_ISSUER": ISSUER,
                "VCS_CODEC_OIDC_AUDIENCE": AUDIENCE,
                "VCS_CODEC_OIDC_JWKS_URL": "http://login.vcs.test/certs",
            },
            "VCS_CODEC_OIDC_JWKS_URL must be an https:// URL (http:// only on this machine)",
        ),
    ],
    ids=["nothing", "half-oidc", "jwks-in-the-clear"],
)
def test_codec_server_will_not_start_without_a_way_in(
    settings: dict[str, str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "codec_server.py"],
        cwd=ROOT,
        env=clean_env(**settings),
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"error: {message}"


# ---- a whole lifecycle, read back from Temporal's store ---------------------------------------


LOCAL_ACTIVITY_BOOKKEEPING = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}


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
    today = london_date(await env.get_current_time())
    vcs = Vcs(env.client, engine, task_queue)
    case_ref = unique_ref("ENC")
    reg = registration(case_ref, today, term_months=24)
    release = reg.conditional_release_date
    assert release is not None
    async with build_worker(env.client, engine, task_queue):
        await vcs.register_case(reg, actor=VLO_ACTOR)
        victim_id, _ = await vcs.add_victim(
            case_ref, victim(NAME, address=ADDRESS, postcode=POSTCODE), actor=VLO_ACTOR
        )
        await offered_and_opted_in(vcs, engine, victim_id, ContactLevel.ALL_KEY_STAGES)
        assert stage(engine, victim_id) is Stage.OPTED_IN

        await env.sleep(timedelta(days=(release - today).days - 119))
        await eventually(lambda: LetterKind.REPRESENTATIONS_INVITED in letters(engine, victim_id))
        await vcs.submit_representations(victim_id, REPRESENTATIONS, actor=VLO_ACTOR)
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
            actor=VLO_ACTOR,
        )
        await eventually(lambda: LetterKind.CONDITIONS_IMPOSED in letters(engine, victim_id))
        await run_until(env, release)
        await vcs.record_release(case_ref, release, actor=VLO_ACTOR)
        await run_until(
            env,
            release_told_on(ReleaseMonth.of(release), release, current_policy().bank_holidays),
            extra_days=0,
        )
        await eventually(lambda: LetterKind.RELEASE in letters(engine, victim_id))
        await run_until(env, reg.licence_expiry_date)
        await eventually(lambda: stage(engine, victim_id) is Stage.CLOSED)
        # The scheme-ended letter waits for the month after the licence ends, and the run too.
        assert reg.licence_expiry_date is not None
        ended = ReleaseMonth.of(reg.licence_expiry_date)
        await run_until(env, release_told_on(ended, release, current_policy().bank_holidays))
        await eventually(lambda: LetterKind.SCHEME_ENDED in letters(engine, victim_id))
        assert await until_quiet(env)
        assert await workflow_status(env, case_workflow_id(case_ref)) == "COMPLETED"

    converter = data_converter()
    for workflow_id in (case_workflow_id(case_ref),):
        for history in await stored_histories(env.client, workflow_id):
            raw = history.SerializeToString()  # bytes fields embedded as they are stored
            assert task_queue.encode() in raw  # the search below does see plain text
            for secret in SECRETS:
                assert secret.lower().encode() not in raw.lower(), (
                    f"{secret!r} is in the stored history of {workflow_id}"
                )
            found = list(payloads_in(history))
            # A local activity's marker keeps the SDK's own bookkeeping beside the (encrypted)
            # result: sequence, attempt, activity ID and type, times. Never our data.
            for where, payload in found:
                if where.endswith("marker_recorded_event_attributes.details[data].payloads[0]"):
                    assert set(json.loads(payload.data)) <= LOCAL_ACTIVITY_BOOKKEEPING, where
            # Search attributes are indexed by the server, so never encrypted: IDs only.
            encrypted_ones = [
                (w, p)
                for w, p in found
                if ".search_attributes." not in w and not w.endswith(".details[data].payloads[0]")
            ]
            assert len(encrypted_ones) >= 3, f"{workflow_id}: found only {found}"
            for where, payload in encrypted_ones:
                assert payload.metadata["encoding"] == ENCODING, f"{workflow_id} {where} in clear"
                assert payload.metadata[KEY_ID] == TEST_CODEC_KEY_ID.encode()
            # ...and what was stored is still the workflow's input, to whoever holds the key.
            started = history.events[0].workflow_execution_started_event_attributes
            [first_input] = await converter.decode(started.input.payloads)
            assert case_ref in json.dumps(first_input)
