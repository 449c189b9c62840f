"""`jiuye treasury-sim`: a STAND-IN for the external treasury or bank, for development and tests
only. It is not part of the system: it consumes `payments.instructions` as the treasury would and
answers on `payments.results` by configurable rules:

- an instruction to an account whose number ends in `closed_suffix` (default "0") is returned
  `account_closed`; every other one is settled;
- a share of answers (`delay_share`) comes `delay_seconds` late, a share (`duplicate_share`) is
  sent twice (a second delivery under its own event id), a share (`missing_share`) never comes.

Which instructions fall in a share is decided by a digest of the instruction id, so a run is
reproducible. The stand-in knows the payees' accounts as a bank does: it reads the last 4
characters of the account an instruction names (`account_ref` = payee#version) from the
`payee_accounts` table, never the sealed number. Answers are dated the instruction's day.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from contracts.settings import Settings
from contracts.topics import PAYMENT_INSTRUCTIONS, TOPIC_OF_TYPE

log = logging.getLogger("jiuye.treasury_sim")

RESULTS = TOPIC_OF_TYPE["payment.settled"]
SOURCE = "treasury-sim"


@dataclass(frozen=True)
class Rules:
    closed_suffix: str = "0"
    delay_share: float = 0.0
    delay_seconds: float = 5.0
    duplicate_share: float = 0.0
    missing_share: float = 0.0


@dataclass(frozen=True)
class Answer:
    delay_seconds: float
    event: dict[str, Any]


def _share(instruction_id: str, rule: str) -> float:
    """Where an instruction falls in [0, 1) for one rule (each rule its own draw)."""
    digest = hashlib.sha256(f"{rule}:{instruction_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def answers(instruction: dict[str, Any], last4: str | None, rules: Rules) -> list[Answer]:
    """The treasury's answers to one `payment.instructed` (its CloudEvent): none, one or two."""
    data = instruction["data"]
    iid = str(data["instruction_id"])
    if _share(iid, "missing") < rules.missing_share:
        return []
    closed = last4 is not None and last4.endswith(rules.closed_suffix)
    type_ = "payment.returned" if closed else "payment.settled"
    on = str(data.get("instructed_on") or data["due_on"])
    result: dict[str, Any] = {"instruction_id": iid, "on": on}
    if closed:
        result["reason"] = "account_closed"
    city = data.get("city") or "21"
    event = {
        "specversion": "1.0", "id": f"{iid}-{type_.split('.')[1]}", "source": f"{SOURCE}/{city}", "type": type_,
        "subject": str(data["payee"]), "time": datetime.now(timezone.utc).isoformat(),
        "datacontenttype": "application/json", "data": result,
    }
    delay = rules.delay_seconds if _share(iid, "delay") < rules.delay_share else 0.0
    out = [Answer(delay, event)]
    if _share(iid, "duplicate") < rules.duplicate_share:
        out.append(Answer(delay, {**event, "id": f"{event['id']}-again"}))
    return out


async def run(settings: Settings, rules: Rules, group: str) -> None:
    """Answer instructions until SIGINT/SIGTERM; offsets are committed once a batch's answers
    were sent (a delayed answer holds its batch's commit until it went out)."""
    from aiokafka import AIOKafkaConsumer

    from activities.pg_store import create_pool
    from contracts.kafka import client_security, make_producer

    pool = await create_pool(settings.database_url, 2)
    producer = make_producer(settings, client_id="jiuye-treasury-sim")
    names = settings.topics
    consumer = AIOKafkaConsumer(names.physical(PAYMENT_INSTRUCTIONS), bootstrap_servers=settings.kafka_bootstrap,
                                group_id=names.physical(group),
                                enable_auto_commit=False, auto_offset_reset="earliest", **client_security(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await producer.start()
    await consumer.start()
    log.info("treasury-sim (a stand-in for the treasury): %s → %s, group %s", names.physical(PAYMENT_INSTRUCTIONS),
             names.physical(RESULTS), names.physical(group))

    async def send(answer: Answer) -> None:
        if answer.delay_seconds:
            await asyncio.sleep(answer.delay_seconds)
        event = answer.event
        await producer.send_and_wait(names.physical(RESULTS), json.dumps(event).encode(), key=event["subject"].encode())
        log.info("treasury-sim: %s %s", event["type"], event["data"]["instruction_id"])

    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=200)
            sends = []
            for records in batches.values():
                for record in records:
                    instruction = json.loads(record.value or b"{}")
                    if instruction.get("type") != "payment.instructed":
                        continue
                    last4 = await pool.fetchval(
                        "SELECT last4 FROM payee_accounts WHERE payee || '#' || version = $1",
                        instruction["data"].get("account_ref"),
                    )
                    sends += [send(a) for a in answers(instruction, last4, rules)]
            await asyncio.gather(*sends)
            if batches:
                await consumer.commit()
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        await producer.stop()
        await pool.close()


def register(sub: Any) -> None:
    """The `treasury-sim` subcommand (app/cli.py)."""
    parser = sub.add_parser(
        "treasury-sim",
        help="a STAND-IN for the treasury (development and tests): answer payments.instructions on payments.results",
        description="A labelled stand-in for the external treasury, not part of the system: consume "
        "payments.instructions and answer each payment.instructed on payments.results — returned "
        "account_closed when the account's number ends in --closed-suffix, settled otherwise; a share of "
        "answers delayed, sent twice or never sent (decided by the instruction id, so runs repeat). Reads "
        "the accounts' last 4 characters from JIUYE_DATABASE_URL, never the number.",
    )
    parser.add_argument("--closed-suffix", default="0", help="account numbers ending so are closed (default 0)")
    parser.add_argument("--delay-share", type=float, default=0.0, help="share of answers sent late (0..1)")
    parser.add_argument("--delay-seconds", type=float, default=5.0, help="how late (default 5 s)")
    parser.add_argument("--duplicate-share", type=float, default=0.0, help="share of answers sent twice (0..1)")
    parser.add_argument("--missing-share", type=float, default=0.0, help="share of instructions never answered (0..1)")
    parser.add_argument("--group", default="jiuye-treasury-sim",
                        help="its Kafka consumer group (under JIUYE_TOPIC_PREFIX, like every group)")


def main(args: Any) -> int:
    from contracts.settings import get_settings

    rules = Rules(closed_suffix=args.closed_suffix, delay_share=args.delay_share, delay_seconds=args.delay_seconds,
                  duplicate_share=args.duplicate_share, missing_share=args.missing_share)
    asyncio.run(run(get_settings(), rules, args.group))
    return 0
