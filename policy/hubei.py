"""K11 hubei_graduate_grant (湖北籍2020届高校毕业生一次性求职创业补贴, §14) as pure functions.

§14 给予省内院校湖北籍2020届高校毕业生一次性求职创业补贴: a graduate of the
`hubei_grant.graduation_year` cohort from an institution in `hubei_grant.institution_province`
(21, Liaoning) whose household registration is in `hubei_grant.hukou_province` (42, Hubei)
gets `hubei_grant.amount` once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.events import CITY_CODE
from contracts.parameters import Parameters
from policy.corrections import Owed

PROGRAM = "hubei_graduate_grant"
PERIOD = "once"

RULE_GRANT = "§14 给予省内院校湖北籍2020届高校毕业生一次性求职创业补贴: hubei_grant.amount once"
RULE_NOT_OWED = "§14: not eligible on the corrected application details (湖北籍2020届省内院校毕业生 only)"

_PROVINCE = re.compile(r"^\d{2}$")


def application_city(source: str, details: dict[str, Any]) -> str | None:
    """`application.submitted` names no city: an optional `details.city`, else the city of the
    producing system (`source` is "<system>/<city>", EVENTS.md), else none (province values)."""
    stated = details.get("city")
    if isinstance(stated, str) and CITY_CODE.match(stated):
        return stated
    tail = source.rsplit("/", 1)[-1]
    return tail if CITY_CODE.match(tail) else None


@dataclass(frozen=True)
class GrantDetails:
    """The program-specific `details` of the application (EVENTS.md)."""

    graduation_year: int
    hukou_province: str
    institution_province: str


def parse_details(details: dict[str, Any]) -> GrantDetails:
    """The details as typed values; ValueError (bad input, a dead letter) when a field is
    missing or of the wrong type. Province codes are two-digit GB/T 2260 codes ("42"; a JSON
    number 42 is accepted too)."""
    year = details.get("graduation_year")
    if isinstance(year, bool) or not isinstance(year, int):
        raise ValueError(f"details.graduation_year: expected a year as a number, got {year!r}")
    provinces = {}
    for name in ("hukou_province", "institution_province"):
        value = details.get(name)
        text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _PROVINCE.match(text):
            raise ValueError(f"details.{name}: expected a two-digit province code, got {value!r}")
        provinces[name] = text
    return GrantDetails(year, provinces["hukou_province"], provinces["institution_province"])


def ineligibility(details: GrantDetails, params: Parameters, on: date) -> str | None:
    """Why the applicant is not eligible (None: eligible), with the rule."""
    reasons = []
    cohort = params.get("hubei_grant.graduation_year", on)
    if details.graduation_year != cohort:
        reasons.append(f"graduation year {details.graduation_year} is not the {cohort} cohort (2020届)")
    institution = str(params.get("hubei_grant.institution_province", on))
    if details.institution_province != institution:
        reasons.append(f"institution in province {details.institution_province}, not {institution} (省内院校)")
    hukou = str(params.get("hubei_grant.hukou_province", on))
    if details.hukou_province != hukou:
        reasons.append(f"household registration in province {details.hukou_province}, not {hukou} (湖北籍)")
    return "§14: " + "; ".join(reasons) if reasons else None


def grant_amount(params: Parameters, on: date) -> int:
    """`hubei_grant.amount` in force on the application date."""
    return params.integer("hubei_grant.amount", on)


def owed(details: GrantDetails, params: Parameters, applied_on: date, payee: str, fund: str) -> list[Owed]:
    """What the grant is on the details known now: `hubei_grant.amount` in force on the
    application date, due that day, or nothing when the details make the applicant ineligible
    (a backdated change of the amount or a corrected household registration thus becomes a
    correction of the one period)."""
    if ineligibility(details, params, applied_on) is not None:
        return []
    return [Owed(PROGRAM, PERIOD, grant_amount(params, applied_on), fund, payee, applied_on, RULE_GRANT)]
