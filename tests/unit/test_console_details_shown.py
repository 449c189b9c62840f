"""How the console shows what a case and a proposal's preview say: amounts among the details in
yuan (labels.MONEY_DETAILS), the corrections of a preview with their rules read in each language."""

from __future__ import annotations

from typing import Any

from console.service import case_texts, labels
from console.service.proposals import with_readings
from tests.unit import case_text_sources as sources

RULE = "§14: the unit is paid for each completed internship month"


def test_every_money_detail_is_a_named_detail_key() -> None:
    assert set(labels.MONEY_DETAILS) <= set(labels.DETAIL_KEYS)
    assert labels.name("money_detail", "monthly_amount", "zh-CN") == "元"


def test_task_details_keys_are_scanned_with_the_case_details() -> None:
    # The dibao taper decision's facts (workflows/dibao_taper.py raise_task) are named on the page.
    assert {"months_max", "months_min", "default_months"} <= set(sources.detail_keys())


def test_a_preview_shown_reads_each_correction_rule_and_keeps_the_stored_one() -> None:
    stored: dict[str, Any] = {"id": 1, "preview": {"corrections": [{"case_id": "internship/P1/U1/2020-03-02", "rule": RULE, "amount": 30000}]}}
    shown = with_readings(stored)
    correction = shown["preview"]["corrections"][0]
    assert correction["rule_read"] == {"zh-CN": case_texts.read(RULE, "zh-CN"), "en": RULE}
    assert correction["rule_read"]["zh-CN"] == "§14：见习单位按完成的见习月份领取补贴"
    assert "rule_read" not in stored["preview"]["corrections"][0]


def test_a_proposal_without_a_preview_is_shown_as_stored() -> None:
    assert with_readings({"id": 2, "preview": None}) == {"id": 2, "preview": None}
