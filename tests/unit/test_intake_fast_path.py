"""The firehose's routing fast path (issue 16 item 1): a record of a type that reaches only the
cases registered under its keys (`CASE_ONLY_TYPES`, derived from the route modules' `CASE_ONLY`
declarations) whose keys have no open or listening case is ignored with one handler call, not
offered to every kind — with the outcomes the full routing gives."""

from __future__ import annotations

from typing import Any

import pytest

from activities.memory_store import MemoryStore
from contracts import kinds
from contracts.events import CloudEvent, parse_event
from streams import intake as intake_module
from streams.intake import Intake
from streams.routes.commands import Ignore
from streams.routing import CASE_ONLY_TYPES, KIND_ROUTES, route, route_without_case
from tests.unit.test_intake_batch import PACK, Gateway, Sink, claim, contribution, records, termination


def _event(raw: bytes) -> CloudEvent:
    return parse_event(raw)


def test_case_only_types_are_those_every_kind_taking_them_declares() -> None:
    assert "contribution.paid" in CASE_ONLY_TYPES
    for event_type in CASE_ONLY_TYPES:
        taking = [k for k in KIND_ROUTES if event_type in k.routes]
        assert taking and all(event_type in k.case_only for k in taking), event_type
        assert not any(event_type in k.route_facts or event_type in k.employer_cases for k in taking), event_type
    # A type some kind may start a case on is not one (a contract starts K6/K7 hires).
    assert "contract.signed" not in CASE_ONLY_TYPES and "ui.claim.filed" not in CASE_ONLY_TYPES


@pytest.mark.parametrize("employer", ["E1", None])
def test_case_only_declarations_hold_each_kind_ignores_a_contribution_without_a_case(employer: str | None) -> None:
    event = _event(contribution("P1", "2020-04", employer))
    for kind in KIND_ROUTES:
        if event.type in kind.case_only:
            extra: dict[str, Any] = {"listening": []} if event.type in kind.late_facts else {}
            commands = kind.routes[event.type](event, [], PACK, **extra)
            assert commands and all(isinstance(c, Ignore) for c in commands), (kind.kind, commands)
    assert route_without_case(event, PACK) == route(event, [], PACK)


def _mixed_batch() -> list[bytes]:
    """Contributions of people with an open case (news, and not news: the claim's month), with a
    listening case, without any, flexible ones, a duplicate, a bad record and a termination."""
    with_case = [contribution(f"P{n}", "2020-04") for n in range(5)] + [contribution("P1", "2020-03", n=1)]
    without = [contribution(f"X{n}", "2020-04", f"E{n % 3}") for n in range(20)]
    flexible = [contribution("P2", "2020-05", None), contribution("X1", "2020-05", None)]
    listening = [contribution("L1", "2020-06")]
    return [*with_case[:3], *without[:10], b"not json", *flexible, *listening, without[0],
            termination("X5"), *with_case[3:], *without[10:]]


async def _outcomes(fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]], list[str]]:
    store, gateway, sink = MemoryStore(), Gateway(), Sink()
    intake = Intake(store, gateway, sink, PACK)  # type: ignore[arg-type]
    await intake.handle_batch(records([claim(f"P{n}") for n in range(5)] + [claim("L1")]))
    listening_case = kinds.unemployment_insurance_case_id("L1", "2020-03-02")
    store.closed.add(listening_case)
    store.listening.add(listening_case)
    gateway.calls.clear()
    with monkeypatch.context() as patch:
        if not fast:  # the slow path: every record offered to every kind taking it
            patch.setattr(intake_module, "CASE_ONLY_TYPES", frozenset())
        outcomes = await intake.handle_batch(records(_mixed_batch()))
    return [(o.status, o.detail) for o in outcomes], gateway.calls, sink.reasons


async def test_fast_path_gives_the_outcomes_of_the_full_routing_on_a_mixed_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = await _outcomes(True, monkeypatch)
    slow = await _outcomes(False, monkeypatch)
    assert fast == slow
    statuses = {status for status, _ in fast[0]}
    assert statuses == {"applied", "ignored", "duplicate", "dead_letter"}, "the batch does not mix what it should"


async def test_fast_path_a_contribution_for_a_subject_with_a_case_still_reaches_it() -> None:
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    await intake.handle_batch(records([claim("P1")]))
    gateway.calls.clear()
    batch = [contribution(f"X{n}", "2020-04") for n in range(50)] + [contribution("P1", "2020-04")]
    outcomes = await intake.handle_batch(records(batch))
    assert [o.status for o in outcomes] == ["ignored"] * 50 + ["applied"]
    assert gateway.calls == [("signal", kinds.unemployment_insurance_case_id("P1", "2020-03-02"), "c-P1-2020-04-0")]
