"""One case's timeline: the workflow's own entries (events with source and id, decisions with
their rule, payments, tasks, holds) plus supervisors' actions from the audit, oldest first; the
read model's facts when the workflow cannot answer."""

from __future__ import annotations

from console.service.cases import build_timeline
from contracts.timeline import ENTRY_TYPES

CASE = {"case_id": "dibao/P1/2020-01", "opened_on": "2020-01-03", "closed_on": None, "status": "active"}


def test_timeline_from_the_live_state_names_events_rules_and_types() -> None:
    state = {"timeline": [
        {"on": "2020-01-03", "what": "receiving 低保", "event": "ca/2101#e1", "rule": None, "amount": None, "type": "event"},
        {"on": "2020-03-10", "what": "employed", "event": "re/2101#e2", "rule": "§18 taper", "type": "decision"},
        {"on": "2020-03-10", "what": "task raised: taper_decision", "rule": "§18", "type": "task"},
        {"on": "2020-04-01", "what": "paid 2020-04 to person/P1", "rule": "§18", "amount": 60000, "type": "payment"},
        {"on": "2020-03-20", "what": "held by alice: income check", "type": "supervisor"},
    ]}
    trail = [{"on": "2020-03-20", "at": "2020-03-20T02:00:00+00:00", "actor": "alice", "role": "city_supervisor",
              "action": "case.hold", "details": {"reason": "income check"}},
             {"on": "2020-03-21", "at": "2020-03-21T02:00:00+00:00", "actor": "bob", "role": "province",
              "action": "case.view", "details": {}}]
    timeline = build_timeline(CASE, state, [], [], trail)
    assert [(t["on"], t["type"]) for t in timeline] == [
        ("2020-01-03", "event"), ("2020-03-10", "decision"), ("2020-03-10", "task"),
        ("2020-03-20", "supervisor"), ("2020-03-20", "supervisor"), ("2020-04-01", "payment"),
    ]
    assert timeline[0]["event"] == {"source": "ca/2101", "id": "e1"}
    assert timeline[1]["rule"] == "§18 taper"
    assert timeline[4]["what"] == "case.hold by alice (city_supervisor): income check"


def test_timeline_without_the_workflow_comes_from_ledger_tasks_and_read_model() -> None:
    payments = [{"due_on": "2020-04-01", "period": "2020-04", "payee": "person/P1", "rule": "§18", "amount": 60000}]
    tasks = [{"due_on": "2020-03-25", "kind": "taper_decision", "state": "expired"}]
    timeline = build_timeline({**CASE, "closed_on": "2020-10-01", "status": "completed"}, None, payments, tasks, [])
    assert [(t["on"], t["type"], t["origin"]) for t in timeline] == [
        ("2020-01-03", "event", "read model"), ("2020-03-25", "task", "tasks"),
        ("2020-04-01", "payment", "ledger"), ("2020-10-01", "decision", "read model"),
    ]


def test_corrections_are_their_own_kind_of_entry_live_and_from_the_ledger() -> None:
    state = {"timeline": [
        {"on": "2020-07-02", "what": "paid 2020-Q2 to bank/B13", "rule": "§2", "amount": 62500, "type": "payment"},
        {"on": "2020-07-09", "what": "overpayment for loan_interest_subsidy 2020-Q2", "rule": "§2", "amount": 12500,
         "event": "bank/2101#r2", "type": "correction"},
    ]}
    assert [t["type"] for t in build_timeline(CASE, state, [], [], [])] == ["payment", "correction"]
    payments = [
        {"due_on": "2020-07-02", "period": "2020-Q2", "program": "loan_interest_subsidy", "entry": "payment",
         "corrects": None, "cause": None, "payee": "bank/B13", "rule": "§2", "amount": 62500},
        {"due_on": "2020-07-09", "period": "2020-Q2", "program": "loan_interest_subsidy", "entry": "overpayment",
         "corrects": "2020-Q2", "cause": "bank/2101#r2", "payee": "bank/B13", "rule": "§2", "amount": 12500},
    ]
    timeline = build_timeline(CASE, None, payments, [], [])
    assert [(t["type"], t["what"]) for t in timeline[1:]] == [
        ("payment", "paid 2020-Q2 to bank/B13"),
        ("correction", "overpayment for loan_interest_subsidy 2020-Q2 to bank/B13"),
    ]
    assert timeline[2]["cause"] == "bank/2101#r2"


def test_the_type_is_the_cases_word_not_read_from_the_english() -> None:
    """An entry whose words would read as something else keeps the type its case gave it."""
    state = {"timeline": [{"on": "2020-05-01", "what": "paid attention to the late report", "event": "re/2101#e9",
                           "amount": 100, "type": "event"}]}
    assert [t["type"] for t in build_timeline(CASE, state, [], [], [])] == ["event"]


def test_entries_from_before_types_get_theirs_from_the_one_legacy_rule() -> None:
    """A worker not yet upgraded answers untyped entries: each gets the type its words had."""
    state = {"timeline": [
        {"on": "2020-01-03", "what": "receiving 低保", "event": "ca/2101#e1"},
        {"on": "2020-03-10", "what": "task raised: taper_decision", "rule": "§18"},
        {"on": "2020-03-20", "what": "held by alice: income check"},
        {"on": "2020-04-01", "what": "paid 2020-04 to person/P1", "rule": "§18", "amount": 60000},
        {"on": "2020-07-09", "what": "overpayment for k10 2020-Q2", "rule": "§2", "amount": 12500},
        {"on": "2020-09-01", "what": "closed completed", "rule": "§18"},
        {"on": "2020-09-02", "what": "no longer taking late facts"},
    ]}
    assert [t["type"] for t in build_timeline(CASE, state, [], [], [])] == [
        "event", "task", "supervisor", "payment", "correction", "decision", "note"]
    assert set(ENTRY_TYPES) >= {t["type"] for t in build_timeline(CASE, state, [], [], [])}


def test_an_entry_carried_from_before_types_is_typed_once_it_is_read() -> None:
    """A timeline carried across continue-as-new by an older worker has no `type`: the model
    gives it the legacy type; a typed entry keeps its own."""
    from contracts.cases import TimelineEntry

    carried = TimelineEntry.model_validate({"on": "2020-04-01", "what": "paid 2020-04 to person/P1", "rule": "§18", "amount": 60000})
    assert carried.type == "payment"
    typed = TimelineEntry.model_validate({"on": "2020-04-01", "what": "paid 2020-04 to person/P1", "amount": 1, "type": "note"})
    assert typed.type == "note"
    assert TimelineEntry.model_validate(carried.model_dump(mode="json")) == carried
