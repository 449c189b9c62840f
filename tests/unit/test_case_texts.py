"""The case page reads in Chinese throughout (issue 18 item 3): every timeline note a workflow
writes, every rule it gives and every key of a kind's details has a Chinese reading in
console/service/case_texts.py (and labels.py for the keys), so a note added in English only fails
here, not on a supervisor's screen; and a reading puts the note's values in as people read them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from console.service import case_texts, labels
from contracts.events import DATA_MODELS
from policy import corrections
from tests.unit import case_text_sources as sources

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_workflow_note_pattern_has_a_chinese_reading() -> None:
    found = sources.notes()
    assert len(found) > 150  # the scan sees the workflows' notes (185 when this was written)
    unreadable = {p: where for p, where in found.items() if "{?}" in p}
    assert not unreadable, f"notes the scan cannot reduce to a pattern: {unreadable}"
    missing = {p: where for p, where in found.items() if p not in case_texts.NOTES}
    assert not missing, f"timeline notes without a Chinese reading in case_texts.NOTES: {missing}"


def test_every_rule_constant_and_rule_string_has_a_chinese_reading() -> None:
    found = sources.rules()
    assert len(found) > 60
    unreadable = {p: where for p, where in found.items() if "{?}" in p}
    assert not unreadable, f"rules the scan cannot reduce to a pattern: {unreadable}"
    missing = {p: where for p, where in found.items() if p not in case_texts.RULES}
    assert not missing, f"rules without a Chinese reading in case_texts.RULES: {missing}"


def test_every_recovery_outcome_rule_has_a_chinese_reading() -> None:
    # Given as rule= by a lookup (case_base.py: corrections.RECOVERY_OUTCOMES[outcome]), which the scan cannot follow.
    assert set(corrections.RECOVERY_OUTCOMES.values()) - set(case_texts.RULES) == set()


def test_every_detail_key_has_a_chinese_name() -> None:
    found = sources.detail_keys()
    assert len(found) > 80
    missing = {k: where for k, where in found.items() if k not in labels.DETAIL_KEYS}
    assert not missing, f"details keys without a name in labels.DETAIL_KEYS: {missing}"


def test_every_event_type_has_a_chinese_name() -> None:
    assert set(DATA_MODELS) - set(labels.EVENT_TYPES) == set()


def test_no_catalog_entry_is_left_over() -> None:
    """A reading whose note, rule or key left the code is dead weight that hides a renamed one."""
    assert set(case_texts.NOTES) - set(sources.notes()) == set()
    assert set(case_texts.RULES) - set(sources.rules()) - set(corrections.RECOVERY_OUTCOMES.values()) == set()
    assert set(labels.DETAIL_KEYS) - set(sources.detail_keys()) == set()


@pytest.mark.parametrize("catalog", [case_texts.NOTES, case_texts.CONSOLE_NOTES, case_texts.RULES])
def test_every_reading_is_chinese_and_uses_each_value(catalog: dict[str, str]) -> None:
    for pattern, zh in catalog.items():
        # Chinese words, or (a reading made of values only) Chinese punctuation around them.
        assert HAN.search(zh) or "：" in zh or "（" in zh, (pattern, zh)
        used = sorted({int(m[1]) for m in re.finditer(r"\{(\d+)(?::\w+)?\}", zh)})
        assert used == list(range(pattern.count("{}"))), (pattern, zh)
        for way in re.findall(r"\{\d+:(\w+)\}", zh):
            assert way in ("yuan", "list") or way in case_texts.VALUE_WORDS or way in labels.GROUPS, (pattern, way)


def test_late_fact_note_reads_in_chinese_with_its_event_type() -> None:
    assert case_texts.read("late contract.signed: the decision stands") == "迟到的劳动合同签订：原决定不变"
    assert case_texts.read("late contract.signed: the decision stands", "en") == "late contract.signed: the decision stands"


def test_note_amounts_read_as_yuan_and_dates_as_people_write_them() -> None:
    assert (case_texts.read("corrected report for 2020-03: 123456 fen (was 100000)")
            == "2020年3月缴费报告更正为 1,234.56 元（原为 1,000.00 元）")
    assert case_texts.read("no longer taking late facts (window ended 2021-03-05)") == "不再接收迟到事实（接收期已于2021年3月5日结束）"


def test_note_codes_read_by_their_names() -> None:
    assert case_texts.read("closed exhausted") == "结案：待遇期满"
    assert case_texts.read("alert mass_unemployment raised for city 2101") == "沈阳发出规模性失业预警"
    assert (case_texts.read("arrears for unemployment_insurance 2020-04")
            == "失业保险金2020年4月的补发")


def test_a_value_that_is_no_code_of_its_group_moves_on_to_the_next_pattern() -> None:
    # "{} for {} {}" wants a ledger entry first; a service note fits "{} for {}" instead.
    assert case_texts.read("guidance for person/P1 x") == "为person/P1 x提供guidance"


def test_a_text_no_pattern_fits_is_shown_as_it_came() -> None:
    assert case_texts.read("something the catalog never heard of") == "something the catalog never heard of"


def test_rules_read_in_chinese() -> None:
    from policy import dibao

    assert case_texts.read(dibao.RULE_DECISION) == "§18：由经办人员在 dibao.taper_months_min 至 max 个月之间决定渐退期"
    assert case_texts.read("§17 累计安置次数原则上不超过3次") == "§17 累计安置次数原则上不超过3次"


def test_a_reason_with_brackets_does_not_swallow_the_code_after_it() -> None:
    # console/service/quarantine.py's entry: the refusal's reason is free text, the status a code.
    assert (case_texts.read("welfare_post.placed refused: P1 is still placed (welfare_post/P1/W1/2020-04-01) (quarantined)")
            == "公益性岗位安置被拒绝：P1 is still placed (welfare_post/P1/W1/2020-04-01)（已隔离）")


def test_a_reading_is_masked_for_an_auditor_like_the_recorded_text() -> None:
    """The readings travel beside the recorded text in the case API, so personal data in them is
    masked too (scope.mask walks every string): a person id runs into the Chinese words around it."""
    from console.service.scope import mask

    reading = case_texts.read("paid 2020-03 to person/P123")
    assert reading == "向person/P123支付2020年3月"
    entry: dict[str, Any] = {"what": "paid 2020-03 to person/P123", "read": {"zh-CN": {"what": reading}}}
    masked = mask(entry, {"P123"})
    assert "P123" not in str(masked)
    assert masked["read"]["zh-CN"]["what"].startswith("向person/#")


def test_a_close_waiting_for_what_is_owed_reads_with_its_status_and_dates() -> None:
    # workflows/case_base.py close_once_owed: the status by its name, the days as people write them.
    assert (case_texts.read("stays open until what it owes has fallen due (the next on 2020-07-02); then closes hired as of 2020-07-02")
            == "待应发款项到期后结案（下一笔于2020年7月2日到期）：届时以2020年7月2日为结案日期，按留用就业结案")
