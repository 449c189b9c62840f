"""The live preview's rebuild (app/live_events.py): contributions from contribution_facts, and a
Kafka read of only the offsets it needs."""

from __future__ import annotations

import json

from activities.contribution_facts import CONTRIBUTION, grain, report
from app.live_events import GAP_READ_THROUGH, contribution_event, runs
from contracts.events import parse_event

PAID = {"specversion": "1.0", "id": "si-2101-7", "source": "si/2101", "type": CONTRIBUTION,
        "subject": "person/P000001", "time": "2019-05-03T10:00:00+08:00", "datacontenttype": "application/json",
        "data": {"person_id": "P000001", "month": "2019-05", "employer_id": "E000001", "base": 300000,
                 "employer_amount": 48000, "employee_amount": 24000, "insurances": ["pension", "unemployment"]}}


def test_live_preview_rebuilds_contributions_no_case_took_from_contribution_facts() -> None:
    # What contribution_facts keeps of a record (its report, via JSON as the jsonb column) rebuilds
    # a valid contribution.paid CloudEvent equal to the one received: same key, time, grain, data.
    original = parse_event(json.dumps(PAID).encode())
    stored = json.loads(json.dumps(report(original)))
    rebuilt = parse_event(json.dumps(contribution_event(stored)).encode())
    assert rebuilt == original
    assert (rebuilt.key, grain(rebuilt)) == (original.key, grain(original))


def test_live_preview_reads_only_the_offsets_it_needs() -> None:
    # Far-apart offsets are read one by one; near ones in a run; never the partition from its start.
    wanted = {5, 1_000, 1_003, 50_000}
    spans = runs(wanted)
    assert spans == [(5, 5), (1_000, 1_003), (50_000, 50_000)]
    read = sum(last - first + 1 for first, last in spans)
    assert read == 6 and read < 50_000 - 5
    assert runs({0, GAP_READ_THROUGH + 1}) == [(0, 0), (GAP_READ_THROUGH + 1, GAP_READ_THROUGH + 1)]


def test_jiuye_parameter_preview_shows_the_records_read_from_kafka_for_a_live_preview() -> None:
    from app.parameter_cli import describe

    shown = {"cases_touched": 1, "cases_seen": 2, "total_difference": 1000, "corrections": [], "by_month_and_fund": []}
    proposal = {"id": 7, "status": "proposed", "name": "internship.monthly_subsidy", "value": 160000, "city": "2101",
                "effective_on": "2026-01-01", "proposer": "alice"}
    live = describe({**proposal, "preview": {**shown, "events": 3, "records_read": 5}})
    assert "from the live store: 3 events, 5 records read from Kafka" in live
    assert "records read" not in describe({**proposal, "preview": shown})  # a preview over a file reads no Kafka
