"""`jiuye case show` in text (console_cli.describe_case): each timeline entry by its type, each
ledger row with where it stands at the treasury, and the events the case refused with their
quarantine id, status and who decided them (issue 18 item 4)."""

from __future__ import annotations

from console.console_cli import describe_case

SHOWN = {
    "case": {"case_id": "welfare_post/P1/A/2020-04-01", "kind": "public_welfare_post", "city": "2101", "status": "active",
             "opened_on": "2020-04-01", "closed_on": None, "next_deadline": "2020-06-01", "summary": {}},
    "state": None, "state_unavailable": "no worker", "links": {"temporal": "http://t/ui"},
    "timeline": [{"on": "2020-05-02", "type": "quarantine", "what": "welfare_post.placed refused: still placed (quarantined)",
                  "event": {"source": "es/2101", "id": "P1-3"}}],
    "tasks": [], "owed_fen": 60000, "paid_fen": None,
    "payments": [{"due_on": "2020-05-01", "period": "month-1", "entry": "payment", "amount": 60000, "fund": "employment_subsidy_fund",
                  "payee": "person/P1", "corrects": None,
                  "disbursement": {"status": "returned", "attempts": 2, "batch_id": "B-2101-x"}},
                 {"due_on": "2020-06-01", "period": "month-2", "entry": "payment", "amount": 60000, "fund": "employment_subsidy_fund",
                  "payee": "person/P1", "corrects": None, "disbursement": None}],
    "quarantined": [{"id": 7, "status": "dismissed", "type": "welfare_post.placed", "source": "es/2101", "event_id": "P1-3",
                     "reason": "still placed", "decided_by": "alice", "decision_reason": "filed twice"}],
}


def test_case_show_lists_refused_events_and_each_rows_disbursement() -> None:
    text = describe_case(SHOWN).splitlines()
    assert "  2020-05-02  quarantine welfare_post.placed refused: still placed (quarantined)  (event es/2101 #P1-3)" in text
    [returned] = [line for line in text if "month-1" in line]
    assert returned.endswith("[returned, attempt 2, batch B-2101-x]")
    [pending] = [line for line in text if "month-2" in line]
    assert "[" not in pending
    assert "  7  dismissed   welfare_post.placed  es/2101 #P1-3: still placed  (alice: filed twice)" in text
