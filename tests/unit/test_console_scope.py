"""City scope and personal-data masking, decided in the service layer for API and CLI alike."""

from __future__ import annotations

import pytest

from console.service.errors import Forbidden, NotFound
from console.service.scope import city_filter, mask, pseudonym, require_actor, require_province, require_visible, shown
from console.service.tokens import Principal

ALICE = Principal(sub="alice", role="city_supervisor", city="2101", exp=0)
DORA = Principal(sub="dora", role="province", city=None, exp=0)
CAROL = Principal(sub="carol", role="auditor", city="2101", exp=0)


def test_city_token_is_limited_to_its_city() -> None:
    assert city_filter(ALICE, None) == "2101"
    assert city_filter(ALICE, "2101") == "2101"
    with pytest.raises(Forbidden, match="2102"):
        city_filter(ALICE, "2102")


def test_province_token_sees_every_city_or_the_one_asked_for() -> None:
    assert city_filter(DORA, None) is None
    assert city_filter(DORA, "2102") == "2102"


def test_another_citys_case_is_not_found_for_a_city_token() -> None:
    require_visible(ALICE, "2101", "case x")
    require_visible(DORA, "2102", "case x")
    with pytest.raises(NotFound):
        require_visible(ALICE, "2102", "case x")
    with pytest.raises(NotFound):
        require_visible(ALICE, None, "case x")


def test_auditor_may_not_act_and_only_province_handles_dead_letters() -> None:
    require_actor(ALICE, "decide")
    with pytest.raises(Forbidden, match="read-only"):
        require_actor(CAROL, "decide")
    require_province(DORA, "dead letters")
    with pytest.raises(Forbidden):
        require_province(ALICE, "dead letters")


def test_personal_data_is_masked_for_the_auditor_but_case_ids_stay() -> None:
    shown_case = {
        "case": {"case_id": "dibao/P7/2020-01", "subject": "person/P7", "city": "2101"},
        "payments": [{"payee": "person/P7", "amount": 100}, {"payee": "enterprise/E1", "amount": 5}],
        "timeline": [{"what": "paid 2020-04 to person/P7", "event": {"source": "ca/2101", "id": "P7-1"}}],
        "tasks": [{"task_id": "dibao/P7/2020-01/task/1", "details": {"person_ids": ["P7", "P8"], "household_id": "HP7"}}],
        "links": {"temporal": "http://ui/namespaces/default/workflows/dibao%2FP7%2F2020-01"},
    }
    masked = mask(shown_case, {"P7"})
    token = pseudonym("P7")
    assert masked["case"] == {"case_id": "dibao/P7/2020-01", "subject": f"person/{token}", "city": "2101"}
    assert masked["payments"][0]["payee"] == f"person/{token}" and masked["payments"][1]["payee"] == "enterprise/E1"
    assert masked["timeline"][0]["what"] == f"paid 2020-04 to person/{token}"
    assert masked["timeline"][0]["event"]["id"] == f"{token}-1"
    assert masked["tasks"][0]["task_id"] == "dibao/P7/2020-01/task/1"
    assert masked["links"] == shown_case["links"]
    assert masked["tasks"][0]["details"] == {"person_ids": [token, pseudonym("P8")], "household_id": pseudonym("HP7")}


def test_supervisors_see_personal_data_unmasked() -> None:
    value = {"subject": "person/P7"}
    assert shown(ALICE, value) == value and shown(DORA, value) == value
    assert shown(CAROL, value) == {"subject": f"person/{pseudonym('P7')}"}


def test_pseudonym_is_stable_and_hides_the_id() -> None:
    assert pseudonym("P7") == pseudonym("P7") != pseudonym("P8")
    assert "P7" not in pseudonym("P7")
