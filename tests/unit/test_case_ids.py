"""Case ids (contracts/kinds.py): one format per kind, the same id whether a date comes as the
ISO text of an event or as a `date`, and K6's read back into what it was built from."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import kinds
from policy import hiring


def test_a_date_and_its_iso_text_give_the_same_case_id() -> None:
    on = date(2020, 3, 2)
    assert kinds.unemployment_insurance_case_id("P1", on) == kinds.unemployment_insurance_case_id("P1", "2020-03-02") == "ui/P1/2020-03-02"
    assert kinds.internship_case_id("P1", "U1", on) == "internship/P1/U1/2020-03-02"
    assert kinds.welfare_post_case_id("P1", "W1", on) == "welfare_post/P1/W1/2020-03-02"
    assert kinds.enterprise_si_case_id("E1", "P1", on) == "enterprise_si/E1/P1/2020-03-02"


@pytest.mark.parametrize("program", [hiring.EPIDEMIC, hiring.PRIORITY])
def test_a_k6_case_id_reads_back_as_its_program_enterprise_and_person(program: str) -> None:
    assert kinds.hiring_case_parts(kinds.hiring_case_id(program, "E1", "P1")) == (program, "E1", "P1")


def test_another_kinds_case_id_is_not_read_as_a_k6_one() -> None:
    with pytest.raises(ValueError, match="not a hiring_subsidy case id"):
        kinds.hiring_case_parts(kinds.enterprise_si_case_id("E1", "P1", "2020-03-02"))
