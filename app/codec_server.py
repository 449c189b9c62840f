"""A remote codec for the Temporal Web UI (development): the UI posts the payloads it shows to
`/decode` and gets them back decrypted, so an engineer can read a case's history in the UI while
Temporal's store only ever holds ciphertext (docs/SECURITY.md).

It decrypts for anyone who can reach it, so it listens on 127.0.0.1, answers only the UI's
origin (CORS), and refuses to start with `JIUYE_ENV=production`: there, supervisors read cases
through the console, which checks their tokens and city scope.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from contracts.codec import PayloadDecryptionError, codec_from_settings
from contracts.settings import Settings


def create_codec_app(codec: PayloadCodec, origins: Sequence[str]) -> FastAPI:
    """`POST /decode` and `/encode` in the JSON form of `temporal.api.common.v1.Payloads`, which
    is what the Web UI sends (`--ui-codec-endpoint`)."""
    app = FastAPI(title="jiuye payload codec (development)", docs_url=None, redoc_url=None)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["POST"],
        allow_headers=["content-type", "x-namespace", "authorization"],
        allow_credentials=True,
    )

    async def transform(request: Request, decode: bool) -> Response:
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except (json_format.ParseError, DecodeError, UnicodeDecodeError) as exc:
            raise HTTPException(status_code=400, detail=f"not a Payloads JSON object: {exc}") from None
        try:
            done = await (codec.decode if decode else codec.encode)(list(payloads.payloads))
        except PayloadDecryptionError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        return Response(json_format.MessageToJson(Payloads(payloads=done)), media_type="application/json")

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await transform(request, decode=True)

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await transform(request, decode=False)

    return app


def ui_origins(settings: Settings) -> list[str]:
    """The Web UI's origin as the browser names it (both spellings of the loopback host)."""
    port = settings.temporal_ui_port
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def codec_endpoint(settings: Settings) -> str:
    return f"http://{settings.codec_server_host}:{settings.codec_server_port}"


def serve(settings: Settings) -> int:
    """Run the codec server until interrupted (`jiuye codec-server`)."""
    import uvicorn

    if settings.env == "production":
        raise SystemExit("jiuye codec-server is for development: it decrypts for anyone who reaches it "
                         "(supervisors read cases through the console)")
    codec = codec_from_settings(settings)
    if codec is None:
        raise SystemExit("payload encryption is off (JIUYE_PAYLOAD_ENCRYPTION=false): nothing to decode")
    print(f"codec-server: {codec_endpoint(settings)} for the Web UI at {settings.temporal_ui_url}", flush=True)
    uvicorn.run(create_codec_app(codec, ui_origins(settings)), host=settings.codec_server_host,
                port=settings.codec_server_port, log_level="warning")
    return 0
