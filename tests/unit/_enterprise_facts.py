"""Builders of stored facts about an enterprise (as the intake stores them) for the K7/K15 and
enterprise-profile unit tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from contracts.cases import Fact
from policy.calendar import start_of_day

_ids = count(1)


def fact(type_: str, key: str, data: dict[str, Any], reported: date, on: date | None = None) -> Fact:
    n = next(_ids)
    moment: datetime = start_of_day(reported) + timedelta(hours=9, seconds=n)
    return Fact(key=key, type=type_, on_date=on, payload=data, event_time=moment, event_key=f"t#{n}")


def registered(e: str, industry: str = "manufacturing", size: str = "small", reported: date = date(2019, 1, 2), city: str = "2101") -> Fact:
    return fact("enterprise.registered", f"enterprise/{e}", {"enterprise_id": e, "city": city, "industry": industry, "size": size}, reported)


def enrolled(e: str, person: str, on: date) -> Fact:
    return fact("insured.enrolled", f"enterprise/{e}", {"person_id": person, "employer_id": e, "on": on.isoformat()}, on, on)


def left(e: str, person: str, on: date, reason: str = "layoff") -> Fact:
    return fact("insured.left", f"enterprise/{e}", {"person_id": person, "employer_id": e, "on": on.isoformat(), "reason": reason}, on, on)


def staff(e: str, n: int, on: date, prefix: str = "P") -> list[Fact]:
    """`n` persons enrolled on `on`."""
    return [enrolled(e, f"{prefix}{i}", on) for i in range(1, n + 1)]


def contribution(e: str, person: str, month: str, employer: int, employee: int, insurances: list[str], base: int = 300000) -> Fact:
    year, mon = map(int, month.split("-"))
    return fact(
        "contribution.paid",
        f"enterprise/{e}",
        {"person_id": person, "month": month, "employer_id": e, "base": base, "employer_amount": employer,
         "employee_amount": employee, "insurances": insurances},
        date(year, mon, 20),
    )


def exemption(e: str, from_month: str, to_month: str, reported: date = date(2020, 2, 1)) -> Fact:
    return fact("si.fee_exemption", f"enterprise/{e}", {"enterprise_id": e, "from_month": from_month, "to_month": to_month}, reported)
