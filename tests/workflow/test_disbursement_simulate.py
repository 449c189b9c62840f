"""`jiuye simulate` with disbursement (POLICY.md part 2): a scenario with payee accounts and
treasury results gets a `disbursements` key — each ledger key's instruction id, status and
attempts — and the disbursement tasks; the grant of K11 is the ledger row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from app.simulate import simulate
from policy import disbursement as rules
from policy.hubei import PROGRAM

CLOSED, OPEN = "6222020200112230", "6222020200112237"


def event(n: int, type_: str, subject: str, on: str, data: dict[str, Any]) -> str:
    return json.dumps({"specversion": "1.0", "id": f"d-{n}", "source": "test/2101", "type": type_, "subject": subject,
                       "time": f"{on}T09:00:00+08:00", "datacontenttype": "application/json", "data": data})


def grant(n: int, person: str, on: str) -> str:
    return event(n, "application.submitted", f"person/{person}", on, {
        "program": PROGRAM, "applicant": person, "on": on,
        "details": {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}})


def account(n: int, type_: str, person: str, on: str, number: str) -> str:
    return event(n, type_, f"person/{person}", on, {"payee": f"person/{person}", "bank": "B1",
                                                    "account_number": number, "holder_name": "Zhang", "on": on})


async def test_returned_reinstructed_and_settled_and_a_payee_without_an_account_waits(tmp_path: Path) -> None:
    key = rules.ledger_key_of("hubei_grant/P9001", PROGRAM, "once", "payment", 0)
    first, second = rules.instruction_id(key, 1), rules.instruction_id(key, 2)
    lines = [
        account(1, "payee.account_registered", "P9001", "2020-03-31", CLOSED),
        grant(2, "P9001", "2020-04-01"),
        grant(3, "P9002", "2020-04-01"),
        event(4, "payment.returned", "person/P9001", "2020-04-02",
              {"instruction_id": first, "on": "2020-04-02", "reason": "account_closed"}),
        account(5, "payee.account_updated", "P9001", "2020-04-03", OPEN),
        event(6, "payment.settled", "person/P9001", "2020-04-04", {"instruction_id": second, "on": "2020-04-04"}),
    ]
    path = tmp_path / "disbursement.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = await simulate(path, date(2020, 4, 30))
    assert result["dead_letters"] == []
    by_key = {d["ledger_key"]: d for d in result["disbursements"]}
    assert by_key[key] == {"instruction_id": second, "ledger_key": key, "status": "settled", "attempts": 2,
                           "amount": 150000, "account_ref": "person/P9001#2"}
    waiting = by_key[rules.ledger_key_of("hubei_grant/P9002", PROGRAM, "once", "payment", 0)]
    assert (waiting["status"], waiting["attempts"], waiting["instruction_id"]) == ("awaiting_account", 0, None)
    kinds = [(t["case_id"], t["kind"], t["due_on"]) for t in result["tasks"]]
    assert ("hubei_grant/P9002", "awaiting_account", "2020-04-16") in kinds
    assert not [k for k in kinds if k[0] == "hubei_grant/P9001" and k[1].startswith("payment_")]
    assert CLOSED not in json.dumps(result) and OPEN not in json.dumps(result)
