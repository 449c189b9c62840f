"""Which refusals the intake quarantines on a case (streams/intake.py, issue 18 item 4), on the
in-memory store with the unit tests' stand-in for Temporal (it records the calls a real
gateway would make; the end-to-end tests use the real one): a Reject that names the case
refusing the event (a second claim while one is open) is a dead letter AND quarantined on that
case; an event that reached a case whose workflow had ended is quarantined on it; a Reject that
names no case (bad input) stays a dead letter only; and `redeliver` routes a quarantined event
on the cases as they are now, finishing its inbox row again."""

from __future__ import annotations

from activities.memory_store import MemoryStore
from activities.store import Origin
from contracts.case_index import OpenCase
from contracts.cloudevents_binding import decode_kafka
from streams.intake import LATE_REASON, Intake
from streams.routing import Reject, route
from tests.unit.test_intake_batch import PACK, Gateway, Sink, _event, claim, records


class ClosedGateway(Gateway):
    """The stand-in, for a case whose workflow has ended: signals find no running case."""

    async def signal(self, case_id: str, event: object) -> bool:
        return False


def second_claim(person: str) -> bytes:
    return _event("si/2101", f"claim2-{person}", "ui.claim.filed", person, {
        "person_id": person, "city": "2101", "claim_on": "2020-03-20", "insured_months": 40, "involuntary": True,
        "retirement_date": "2045-01-01"})


async def test_a_claim_refused_by_the_open_claim_is_quarantined_on_that_case() -> None:
    store, sink = MemoryStore(), Sink()
    intake = Intake(store, Gateway(), sink, PACK)  # type: ignore[arg-type]
    outcomes = await intake.handle_batch(records([claim("P1"), second_claim("P1")]))
    assert [o.status for o in outcomes] == ["applied", "dead_letter"]
    assert [(c, e, q["reason"]) for (c, _, e), q in store.quarantined.items()] == [
        ("ui/P1/2020-03-02", "claim2-P1", sink.reasons[0])]
    assert "already has an open claim ui/P1/2020-03-02" in sink.reasons[0]


def test_rejects_of_a_running_case_name_it_and_bad_input_names_none() -> None:
    event = decode_kafka(second_claim("P1"), ())
    open_claim = OpenCase(case_id="ui/P1/2020-03-02", kind="unemployment_insurance", key="person/P1")
    [refused] = route(event, [open_claim], PACK)
    assert isinstance(refused, Reject) and refused.case_id == "ui/P1/2020-03-02"
    bad = event.model_copy(update={"type": "policy.parameter.changed", "subject": "province/21",
                                   "data": {"name": "no.such.parameter", "value": 1, "effective_on": "2020-03-01", "city": None}})
    [unknown] = route(bad, [], PACK)
    assert isinstance(unknown, Reject) and unknown.case_id is None


async def test_an_event_for_a_case_that_ended_is_quarantined_on_it() -> None:
    store = MemoryStore()
    opened = Intake(store, Gateway(), Sink(), PACK)  # type: ignore[arg-type]
    await opened.handle_batch(records([claim("P1")]))
    later = Intake(store, ClosedGateway(), Sink(), PACK)  # type: ignore[arg-type]
    job = _event("es/2101", "job-P1", "employment.registered", "P1", {
        "person_id": "P1", "city": "2101", "on": "2020-04-01", "kind": "employee"})
    [outcome] = await later.handle_batch([(job, Origin("t", 0, 7))])
    assert outcome.status == "late"
    assert {(c, e): q["reason"] for (c, _, e), q in store.quarantined.items()} == {("ui/P1/2020-03-02", "job-P1"): LATE_REASON}


async def test_redeliver_routes_on_the_cases_as_they_are_now() -> None:
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    raw = second_claim("P1")
    await intake.handle_batch(records([claim("P1"), raw]))
    event = decode_kafka(raw, ())
    again = await intake.redeliver(event, raw, Origin("t", 0, 1))
    assert again.status == "dead_letter" and store.inbox[(event.source, event.id)] == "ignored"
    store.closed.add("ui/P1/2020-03-02")  # the first claim closed (not listening: its keys route nothing)
    taken = await intake.redeliver(event, raw, Origin("t", 0, 1))
    assert taken.status == "applied" and "ui/P1/2020-03-20" in taken.detail
    assert gateway.calls[-1] == ("start", "ui/P1/2020-03-20", "claim2-P1")
    assert store.inbox[(event.source, event.id)] == "applied"
