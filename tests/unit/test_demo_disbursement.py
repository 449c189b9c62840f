"""The demo's disbursement act (app/demo_disbursement.py): its account events are valid CloudEvents
of payees.accounts (EVENTS.md) and only the closed payee's number ends in the stand-in's closed suffix."""

from __future__ import annotations

import json
from datetime import date

from app.demo_disbursement import CLOSED, account_event, account_number
from app.treasury_sim import Rules
from contracts.events import parse_event
from contracts.topics import TOPIC_OF_TYPE


def test_the_demos_account_events_parse_and_only_the_closed_account_ends_in_the_closed_suffix() -> None:
    assert CLOSED == Rules().closed_suffix
    for n, (payee, closed, updated) in enumerate((("person/DX1", True, False), ("agency/DXA1", False, False),
                                                  ("person/DX1", False, True)), start=1):
        number = account_number(payee, closed, 2 if updated else 1)
        event = parse_event(json.dumps(account_event("DX", n, payee, number, date(2021, 4, 1), updated)).encode())
        assert TOPIC_OF_TYPE[event.type] == "payees.accounts"
        assert event.type == ("payee.account_updated" if updated else "payee.account_registered")
        assert number.endswith(CLOSED) == closed
    assert account_number("person/DX1", True, 1) != account_number("person/DX1", False, 2)
