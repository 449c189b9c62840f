"""Benchmark events (EVENTS.md CloudEvents as bytes) and fast production to Kafka.

Dates come from the wall clock and amounts/years from the policy pack, never literals:
- a K2 claim (`ui.claim.filed`) is dated a year ahead, so its case opens, records itself, and
  then waits for its first benefit month (no payment, no timer firing during a run);
- an employer's `contribution.paid` for the month after such a claim is news for that K2 case
  (streams/routes/unemployment.py `contribution_paid` signals it); for anyone else it is ignored;
- a K11 `application.submitted` (hubei_graduate_grant) of an eligible graduate pays at once
  (workflows/hubei_graduate_grant.py), which gives the latency benchmark a ledger row per event.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tqdm import tqdm

from contracts import kinds
from contracts.kafka import make_producer
from contracts.settings import Settings
from policy.pack import PolicyPack
from testkit.events import cloud_event, line

SHANGHAI = timezone(timedelta(hours=8))
CITIES = [f"21{n:02d}" for n in range(1, 15)]
CLAIM_AHEAD_DAYS = 365


def cloudevent(source: str, event_id: str, type_: str, subject: str, data: dict[str, Any]) -> bytes:
    """One event's record bytes, timed now (to the second)."""
    now = datetime.now(SHANGHAI).replace(microsecond=0)
    return line(cloud_event(source=source, id=event_id, type=type_, subject=subject, on=now, data=data))


class Claims:
    """K2 claims that open a case and then wait, and the contributions that are news for them."""

    def __init__(self, pack: PolicyPack, today: date | None = None):
        today = today or date.today()
        self.claim_on = today + timedelta(days=CLAIM_AHEAD_DAYS)
        self.retirement = self.claim_on.replace(year=self.claim_on.year + 20)
        # Enough insured months for the longest entitlement the pack knows.
        steps = pack.value("ui.months_by_contribution", None, self.claim_on)
        self.insured_months = max(int(from_months) for from_months, _ in steps)
        nxt = (self.claim_on.replace(day=1) + timedelta(days=32)).replace(day=1)
        self.month_after = nxt.strftime("%Y-%m")

    def claim(self, person: str, n: int) -> tuple[str, bytes, bytes]:
        city = CITIES[n % len(CITIES)]
        subject = f"person/{person}"
        return "si.benefits", subject.encode(), cloudevent(
            f"si/{city}", f"claim-{person}", "ui.claim.filed", subject,
            {"person_id": person, "city": city, "claim_on": self.claim_on.isoformat(),
             "insured_months": self.insured_months, "involuntary": True,
             "retirement_date": self.retirement.isoformat()})

    def case_id(self, person: str) -> str:
        return kinds.unemployment_insurance_case_id(person, self.claim_on)

    def claim_payload(self, person: str, n: int) -> dict[str, Any]:
        """The CloudEvent of `claim` as a dict (for the raw signal-with-start baseline)."""
        event: dict[str, Any] = json.loads(self.claim(person, n)[2])
        return event


def contribution(person: str, n: int, month: str, employer: str | None) -> tuple[str, bytes, bytes]:
    """One `contribution.paid` (an employer's when `employer` is given)."""
    city = CITIES[n % len(CITIES)]
    subject = f"person/{person}"
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 500000,
                            "employer_amount": 80000, "employee_amount": 40000,
                            "insurances": ["pension", "unemployment", "medical"]}
    if employer is not None:
        data["employer_id"] = employer
    return "si.contributions", subject.encode(), cloudevent(f"si/{city}", f"contrib-{person}-{month}-{n}",
                                                            "contribution.paid", subject, data)


def hubei_application(pack: PolicyPack, person: str, n: int, on: date | None = None) -> tuple[str, bytes, bytes]:
    """An eligible K11 application (graduation year and provinces from the pack): paid at once."""
    on = on or date.today()
    city = CITIES[n % len(CITIES)]
    details = {
        "graduation_year": pack.value("hubei_grant.graduation_year", city, on),
        "hukou_province": str(pack.value("hubei_grant.hukou_province", city, on)),
        "institution_province": str(pack.value("hubei_grant.institution_province", city, on)),
    }
    subject = f"person/{person}"
    return "employment.service", subject.encode(), cloudevent(
        f"es/{city}", f"hubei-{person}", "application.submitted", subject,
        {"program": "hubei_graduate_grant", "applicant": person, "on": on.isoformat(), "details": details})


async def produce(settings: Settings, records: Iterable[tuple[str, bytes, bytes]], total: int, label: str,
                  progress: bool = True) -> float:
    """Send every (topic, key, value) and wait for the broker's acknowledgements; seconds taken.

    Sends are queued without awaiting each delivery (linger + large batches), awaited in groups."""
    producer = make_producer(settings, linger_ms=50, max_batch_size=1024 * 1024, client_id="jiuye-bench")
    await producer.start()
    bar = tqdm(total=total, desc=f"produce {label}", unit="ev", unit_scale=True, file=sys.stderr,
               disable=not progress, leave=False, mininterval=1.0)
    started = time.perf_counter()
    pending: list[asyncio.Future[Any]] = []
    try:
        for topic, key, value in records:
            pending.append(await producer.send(settings.topics.physical(topic), value=value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                bar.update(len(pending))
                pending.clear()
        await producer.flush()
        await asyncio.gather(*pending)
        bar.update(len(pending))
    finally:
        bar.close()
        await producer.stop()
    return time.perf_counter() - started


def chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
