"""The treasury stand-in's rules (app/treasury_sim.py): closed accounts are returned, the rest
settled; shares of answers delayed, sent twice or missing, by the instruction id (repeatable)."""

from __future__ import annotations

import json
from typing import Any

from app.treasury_sim import Rules, answers
from contracts.events import parse_event


def instruction(n: int) -> dict[str, Any]:
    return {"type": "payment.instructed", "data": {
        "instruction_id": f"PI-{n:04d}-1", "payee": "person/P1", "city": "2101", "amount": 1000,
        "due_on": "2020-05-01", "instructed_on": "2020-05-02", "account_ref": "person/P1#1"}}


def test_an_account_ending_in_the_closed_suffix_is_returned_account_closed_and_others_settled() -> None:
    (returned,) = answers(instruction(1), "2230", Rules())
    (settled,) = answers(instruction(1), "2233", Rules())
    assert (returned.event["type"], returned.event["data"]["reason"]) == ("payment.returned", "account_closed")
    assert settled.event["type"] == "payment.settled"
    assert settled.event["data"] == {"instruction_id": "PI-0001-1", "on": "2020-05-02"}
    # What it sends is a valid CloudEvent of EVENTS.md, as the intake will parse it.
    assert parse_event(json.dumps(returned.event).encode()).data["reason"] == "account_closed"


def test_shares_are_decided_by_the_instruction_id_and_repeat() -> None:
    rules = Rules(delay_share=0.3, duplicate_share=0.2, missing_share=0.1, delay_seconds=7)
    runs = [[answers(instruction(n), "1111", rules) for n in range(1000)] for _ in range(2)]
    assert [[a.event["id"] for a in got] for got in runs[0]] == [[a.event["id"] for a in got] for got in runs[1]]
    got = runs[0]
    missing = sum(1 for a in got if not a)
    twice = sum(1 for a in got if len(a) == 2)
    late = sum(1 for a in got if a and a[0].delay_seconds == 7)
    assert 60 < missing < 140 and 130 < twice < 230 and 220 < late < 380
    assert all(a[0].event["id"] != a[1].event["id"] and a[0].event["data"] == a[1].event["data"] for a in got if len(a) == 2)


def test_without_shares_every_instruction_gets_one_prompt_answer() -> None:
    assert all(len(a) == 1 and a[0].delay_seconds == 0 for a in (answers(instruction(n), "1111", Rules()) for n in range(200)))
