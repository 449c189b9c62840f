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
    text = describe_case(SHOWN, "en").splitlines()
    assert "  2020-05-02  quarantine welfare_post.placed refused: still placed (quarantined)  (event es/2101 #P1-3)" in text
    [returned] = [line for line in text if "month-1" in line]
    assert returned.endswith("[returned, attempt 2, batch B-2101-x]")
    [pending] = [line for line in text if "month-2" in line]
    assert "[" not in pending
    assert "  7  dismissed   welfare_post.placed  es/2101 #P1-3: still placed  (alice: filed twice)" in text


def test_case_show_prints_chinese_by_default() -> None:
    """`jiuye case show` speaks the console's default language: the notes by their readings
    (console/service/case_texts.py), codes by their names, amounts in 元, dates as people write them."""
    shown = {**SHOWN, "state": {"details": {"post_id": "W1", "starts_on": "2020-04-01"}},
             "timeline": [{"on": "2020-05-01", "type": "payment", "what": "paid month-1 to person/P1", "amount": 60000,
                           "rule": "§17 累计安置次数原则上不超过3次"},
                          {"on": "2020-05-03", "type": "event", "what": "late contract.signed: the decision stands",
                           "event": {"source": "es/2101", "id": "P1-4"}}]}
    text = describe_case(shown).splitlines()
    assert text[0] == "welfare_post/P1/A/2020-04-01  公益性岗位  城市 沈阳  状态 办理中"
    assert "详情：岗位 W1，开始日期 2020年4月1日" in text
    assert "  2020年5月1日  支付       向person/P1支付month-1  600.00 元  【§17 累计安置次数原则上不超过3次】" in text
    assert "  2020年5月3日  事件       迟到的劳动合同签订：原决定不变  （事件 es/2101 #P1-4）" in text
    [returned] = [line for line in text if "month-1" in line and "→" in line]
    assert returned.endswith("【已退回，第 2 次，批次 B-2101-x】")
    assert "  7  已驳回       公益性岗位安置  es/2101 #P1-3：still placed  （alice：filed twice）" in text


def test_case_show_gives_amounts_among_the_details_in_yuan() -> None:
    shown = {**SHOWN, "state": {"details": {"monthly_amount": 50000, "months_paid": 3}}, "timeline": []}
    assert "详情：月发放金额 500.00 元，已支付月数 3" in describe_case(shown).splitlines()
