"""End to end on the real stack: personal data stays out of Temporal's store (issue 6).

A K4 case runs through the real intake, gateway and worker, which connect with
`contracts.temporal.connect` and therefore encrypt every payload (the `system` fixture's state
dir gets its own development key, as `jiuye dev` does). The application's details carry a
name and a national ID number; the person id is a recognisable `P-SECRET-4242-…`. Then:

- the history, fetched by a client WITHOUT the codec, has every payload encrypted, and none of
  the name, the ID number or the person id anywhere in a payload; the same history decoded with
  the key does contain them (so the check is not vacuous);
- the raw SQLite files of the dev server (`<state_dir>/temporal/temporal.db` and its WAL) hold
  neither the name nor the ID number anywhere — while a control workflow started with a plain
  client is found there, which shows the scan sees what the server stores;
- workflow ids and search attributes hold no name, no ID-card-like number and no person id in
  search attributes.

Decision (see docs/SECURITY.md): workflow ids are business keys and DO contain the person's
pseudonymous id (`flexible/<person_id>/<date>`). EVENTS.md allows this — "Person ids are opaque
pseudonyms issued by the social insurance system; national ID numbers never appear in keys,
workflow ids or logs" — so the test requires the person id to be absent from payloads, but
only names and national ID numbers to be absent from workflow ids and the raw database.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History
from temporalio.client import Client

from contracts import kinds
from contracts.codec import ENCODING, EncryptionCodec
from contracts.settings import Settings
from deploy.stack.common import service_dir
from deploy.stack.temporal import NAME as TEMPORAL
from policy import flexible
from policy.calendar import add_months, month_of
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"
ID_CARD_LIKE = re.compile(rb"(?<!\d)\d{17}[\dXx](?!\d)")


def _secrets(tag: str) -> tuple[str, str, str]:
    """A person id, a name and an 18-digit national ID number unique to this run (so an earlier
    run's bytes in the shared dev server's database can never be mistaken for this one's)."""
    digits = f"{int(tag, 16) % 10**8:08d}"
    return f"P-SECRET-4242-{tag}", f"王秘密{tag}", f"2101021980{digits}"


def _payloads(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload inside a protobuf message, with its field path."""
    if message.DESCRIPTOR.full_name == Payload.DESCRIPTOR.full_name:
        yield path, message  # type: ignore[misc]
        return
    for fd, value in message.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        if fd.message_type.GetOptions().map_entry:
            value_fd = fd.message_type.fields_by_name["value"]
            if value_fd.type == value_fd.TYPE_MESSAGE:
                for key, item in value.items():
                    yield from _payloads(item, f"{path}.{fd.name}[{key}]")
        elif fd.is_repeated:
            for i, item in enumerate(value):
                yield from _payloads(item, f"{path}.{fd.name}[{i}]")
        else:
            yield from _payloads(value, f"{path}.{fd.name}")


def _is_search_attribute(path: str) -> bool:
    # Temporal indexes search attributes itself: no codec ever applies to them.
    return ".search_attributes." in path


def _core_bookkeeping(path: str) -> bool:
    # Temporal's SDK core writes these marker fields itself: a patch's id, a local activity's
    # id, type and times. The codec never sees them and they hold nothing of ours; the leak
    # checks below still cover them. A local activity's result (`details[result]`) is ours and
    # goes through the codec like any other payload.
    return any(f".marker_recorded_event_attributes.details[{key}]" in path for key in ("data", "patch-data"))


def _raw_temporal_db(stack_settings: Settings) -> bytes:
    home = service_dir(stack_settings.state_dir, TEMPORAL)
    files = [home / "temporal.db", home / "temporal.db-wal"]
    assert files[0].exists(), f"no dev-server database at {files[0]}: was the server started by `jiuye dev up`?"
    return b"".join(f.read_bytes() for f in files if f.exists())


def _plain_client(codec_client: Client) -> Client:
    """A client on the same connection and namespace that does not decrypt."""
    config = codec_client.config()
    config["data_converter"] = dataclasses.replace(config["data_converter"], payload_codec=None)
    return Client(**config)


async def test_personal_data_is_not_readable_in_temporal(system: System, stack_settings: Settings) -> None:
    codec = system.client.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec), "the system connects with payload encryption on by default"
    person, name, id_card = _secrets(system.tag)
    secrets = {"person id": person.encode(), "name": name.encode(), "national id": id_card.encode()}

    today = business_today()
    applied = add_months(today, -3)
    case_id = kinds.flexible_employment_case_id(person, applied)
    n = iter(range(1, 100))

    def event(type_: str, on: Any, data: dict[str, Any]) -> bytes:
        return line(cloud_event(source=f"es/{CITY}-e2e", id=f"{person}-{next(n)}", type=type_,
                                subject=f"person/{person}", on=on, data=data))

    registered = event("unemployment.registered", add_months(today, -14), {
        "person_id": person, "city": CITY, "registered_on": add_months(today, -14).isoformat(),
        "birth_date": "1980-01-01", "retirement_date": "2045-01-01", "categories": ["disabled"]})
    contribution = event("contribution.paid", applied, {
        "person_id": person, "month": month_of(applied), "base": 300000, "employer_amount": 60000,
        "employee_amount": 24000, "insurances": ["pension"]})
    application = event("application.submitted", applied, {
        "program": flexible.PROGRAM, "applicant": person, "on": applied.isoformat(),
        "details": {"applicant_name": name, "id_card_number": id_card, "phone": "13800004242",
                    "address": f"沈阳市和平区秘密街{system.tag}号"}})
    await system.emit([registered], name="registration.jsonl")
    await system.settled()
    await system.emit([contribution, application])

    async def paid() -> None:
        rows = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE case_id = $1", case_id)
        assert rows, f"{case_id} has paid nothing yet"

    await assert_eventually(paid, timeout=120)

    # 1. The history as anyone with access to the server (or its Web UI) sees it.
    plain = _plain_client(system.client)
    fetched = await plain.get_workflow_handle(case_id).fetch_history()
    history = History(events=fetched.events)
    payloads = list(_payloads(history))
    encrypted = [(path, p) for path, p in payloads if not _is_search_attribute(path) and not _core_bookkeeping(path)]
    assert encrypted, "the history carries payloads"
    assert any(".marker_recorded_event_attributes.details[result]" in path for path, _ in encrypted), \
        "no local activity result in the history: the check below would not cover them"
    unencrypted = [path for path, p in encrypted if p.metadata.get("encoding") != ENCODING]
    assert not unencrypted, f"payloads stored unencrypted: {unencrypted[:5]}"
    for what, secret in secrets.items():
        leaks = [path for path, p in payloads if secret in p.SerializeToString()]
        assert not leaks, f"the {what} is readable in history payloads {leaks[:5]}"
    whole = history.SerializeToString()
    for what in ("name", "national id"):
        assert secrets[what] not in whole, f"the {what} appears in the raw history"

    # ... and with the key it is all there: the details did reach the workflow.
    opened = b"".join(p.SerializeToString() for p in await codec.decode([p for _, p in encrypted]))
    assert all(secret in opened for secret in secrets.values())

    # 2. Workflow ids and search attributes of everything this test ran.
    listed = [w async for w in system.client.list_workflows(f'TaskQueue = "{system.settings.temporal_task_queue}"')]
    assert case_id in {w.id for w in listed}
    for w in listed:
        assert name not in w.id and not ID_CARD_LIKE.search(w.id.encode()), f"personal data in workflow id {w.id}"
        attributes = repr(w.search_attributes).encode() + repr(w.typed_search_attributes).encode()
        for secret in secrets.values():
            assert secret not in attributes, f"personal data in the search attributes of {w.id}"

    # 3. The dev server's SQLite files, byte by byte. First a control: a plain payload started
    # now must be found there, or the scan would prove nothing.
    marker = f"PII-CONTROL-{uuid.uuid4().hex}"
    control = await plain.start_workflow("jiuye-pii-control", marker, id=f"pii-control/{system.tag}",
                                         task_queue=f"pii-control-{system.tag}",
                                         execution_timeout=timedelta(minutes=5))
    try:
        async def stored() -> None:
            assert marker.encode() in _raw_temporal_db(stack_settings), "control payload not in the database yet"

        await assert_eventually(stored, timeout=30, interval=0.5)
    finally:
        await control.terminate("control of test_pii_e2e done")
    raw = _raw_temporal_db(stack_settings)
    for what in ("name", "national id"):
        assert secrets[what] not in raw, f"the {what} is stored in Temporal's SQLite database"


def test_secrets_are_unique_per_run_and_id_card_like() -> None:
    """The markers the e2e test searches for: unique per run, and the ID number matches what
    the id-card scan looks for (so that scan would catch one in a workflow id)."""
    a, b = _secrets(uuid.uuid4().hex[:10]), _secrets(uuid.uuid4().hex[:10])
    assert a != b
    assert ID_CARD_LIKE.fullmatch(a[2].encode())
    assert ID_CARD_LIKE.search(kinds.flexible_employment_case_id(a[2], "2020-03-02").encode())
    assert not ID_CARD_LIKE.search(kinds.flexible_employment_case_id(a[0], "2020-03-02").encode())
