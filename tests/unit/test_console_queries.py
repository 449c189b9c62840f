"""The case list's filters: validated with reasons, turned into indexed SQL with parameters."""

from __future__ import annotations

from datetime import date

import pytest

from console.service.errors import BadRequest
from console.service.queries import CaseQuery, case_list_sql

KINDS = {"dibao_taper", "internship_subsidy"}


def test_case_filters_parse_from_request_strings() -> None:
    q = CaseQuery.parse({"kind": "dibao_taper", "city": "2101", "person": "P1", "enterprise": "enterprise/E1",
                         "opened_from": "2020-01-01", "deadline_to": "2020-06-30", "has_open_task": "true",
                         "sort": "next_deadline", "limit": "20", "offset": "40"}, KINDS)
    assert q.person == "person/P1" and q.enterprise == "enterprise/E1"
    assert q.opened_from == date(2020, 1, 1) and q.deadline_to == date(2020, 6, 30)
    assert q.has_open_task is True and (q.limit, q.offset, q.sort) == (20, 40, "next_deadline")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"kind": "nope"}, "kind must be one of"),
        ({"city": "9999"}, "city must be a city code"),
        ({"opened_from": "2020-02-30"}, "opened_from must be a date"),
        ({"limit": "500"}, "limit must be between 1 and 200"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"offset": "-1"}, "offset must be between"),
        ({"sort": "subject"}, "sort must be one of"),
        ({"has_open_task": "perhaps"}, "has_open_task must be true or false"),
        ({"person": "P 1; drop"}, "person must be an id"),
        ({"colour": "red"}, "unknown parameter(s): colour"),
        ({"closed_from": "2020-05-02", "closed_to": "2020-05-01"}, "closed_from (2020-05-02) is after closed_to"),
    ],
)
def test_bad_case_filters_are_refused_with_a_reason(params: dict[str, str], reason: str) -> None:
    with pytest.raises(BadRequest) as refused:
        CaseQuery.parse(params, KINDS)
    assert reason in refused.value.reason


def test_case_list_sql_is_parameterised_and_scoped_to_the_city() -> None:
    q = CaseQuery.parse({"person": "P1", "has_open_task": "false", "sort": "-next_deadline"}, KINDS)
    page, count, args = case_list_sql(q, "2101")
    assert args == ["2101", "person/P1", 50, 0]
    assert "c.city = $1" in page and "key = $2" in page and "subject = $2" in page
    assert "NOT EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = c.case_id AND t.state = 'open')" in page
    assert "ORDER BY c.next_deadline DESC, c.case_id DESC" in page and "LIMIT $3 OFFSET $4" in page
    assert "LIMIT" not in count and "P1" not in page


def test_case_list_province_wide_has_no_city_condition() -> None:
    page, count, args = case_list_sql(CaseQuery(), None)
    assert "city" not in count and args == [50, 0]
