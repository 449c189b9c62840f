"""The Web UI's remote codec: it decrypts what the UI posts, answers the UI's origin only, and
is refused in production."""

from __future__ import annotations

import json

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from app.codec_server import create_codec_app, serve, ui_origins
from contracts.codec import EncryptionCodec, Keyring, generate_key
from contracts.settings import Settings

UI = "http://127.0.0.1:8233"


def codec() -> EncryptionCodec:
    return EncryptionCodec(Keyring(current_id="k1", keys={"k1": generate_key()}))


def client(c: EncryptionCodec) -> httpx.AsyncClient:
    app = create_codec_app(c, [UI])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec")


async def test_decode_returns_the_plaintext_the_ui_cannot_read_from_the_store() -> None:
    c = codec()
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"person":"P-4242"}')
    [sealed] = await c.encode([plain])
    assert b"P-4242" not in sealed.SerializeToString()
    async with client(c) as http:
        answer = await http.post("/decode", content=json_format.MessageToJson(Payloads(payloads=[sealed])),
                                 headers={"content-type": "application/json", "x-namespace": "default"})
    assert answer.status_code == 200
    [opened] = json_format.Parse(answer.text, Payloads()).payloads
    assert opened == plain


async def test_encode_then_decode_round_trips() -> None:
    c = codec()
    plain = Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')])
    async with client(c) as http:
        sealed = await http.post("/encode", content=json_format.MessageToJson(plain))
        opened = await http.post("/decode", content=sealed.text)
    assert json_format.Parse(opened.text, Payloads()) == plain


async def test_cors_allows_the_web_ui_origin_and_no_other() -> None:
    async with client(codec()) as http:
        ok = await http.options("/decode", headers={"origin": UI, "access-control-request-method": "POST",
                                                     "access-control-request-headers": "content-type,x-namespace"})
        other = await http.options("/decode", headers={"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == UI
    assert "access-control-allow-origin" not in other.headers


async def test_bad_input_and_foreign_keys_are_clear_4xx() -> None:
    other = codec()
    [sealed] = await other.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    async with client(codec()) as http:
        bad = await http.post("/decode", content=b"not json")
        foreign = await http.post("/decode", content=json_format.MessageToJson(Payloads(payloads=[sealed])))
    assert bad.status_code == 400 and "Payloads" in json.loads(bad.text)["detail"]
    assert foreign.status_code == 422


def test_ui_origins_follow_the_ui_port() -> None:
    assert ui_origins(Settings(temporal_ui_port=9000)) == ["http://127.0.0.1:9000", "http://localhost:9000"]


def test_codec_server_refuses_to_run_in_production() -> None:
    with pytest.raises(SystemExit, match="development"):
        serve(Settings(env="production", payload_keys=None))
