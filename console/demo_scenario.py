"""The demo scenario: internships across Liaoning's cities in 2020, with epidemic and other
interruptions, hires on both sides of the 1/3 rule, early ends, an ineligible cohort, three bad
records and a duplicate. Deterministic for a seed; every id carries the run's tag so reruns
open new cases."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from policy.calendar import add_months

CITIES = [f"21{n:02d}" for n in range(1, 15)]
PATTERNS = ("complete", "epidemic_pause", "other_pause", "hired_late", "hired_early", "ended_early")


@dataclass
class DemoScenario:
    tag: str
    lines: list[str] = field(default_factory=list)
    internships: int = 0
    expected_dead_letters: int = 0
    duplicates: int = 0

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _event(tag: str, n: int, city: str, type_: str, person: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"{tag}-{n:05d}",
        "source": f"es/{city}",
        "type": type_,
        "subject": f"person/{person}",
        "time": f"{on.isoformat()}T09:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data,
    }


def generate(count: int, tag: str, seed: int = 2020) -> DemoScenario:
    rng = random.Random(seed)
    scenario = DemoScenario(tag=tag)
    events: list[dict[str, Any]] = []
    serial = 0

    def add(city: str, type_: str, person: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
        nonlocal serial
        serial += 1
        ev = _event(tag, serial, city, type_, person, on, data)
        events.append(ev)
        return ev

    for i in range(count):
        city = CITIES[i % len(CITIES)]
        person, unit = f"{tag}P{i:03d}", f"{tag}U{i % 9:02d}"
        months = rng.randint(3, 12)
        start = date(2020, 1, 2) + timedelta(days=rng.randint(0, 150))
        cohort = 2019 if i % 17 == 16 else rng.choice((2020, 2021))
        ids = {"person_id": person, "unit_id": unit}
        add(city, "internship.agreement_signed", person, start,
            {**ids, "city": city, "starts_on": start.isoformat(), "months": months, "cohort": cohort})
        scenario.internships += 1
        pattern = PATTERNS[i % len(PATTERNS)]
        end = add_months(start, months)
        if pattern in ("epidemic_pause", "other_pause"):
            paused = start + timedelta(days=rng.randint(5, 25))
            resumed = paused + timedelta(days=rng.randint(10, 40))
            add(city, "internship.interrupted", person, paused,
                {**ids, "on": paused.isoformat(), "reason": "epidemic" if pattern == "epidemic_pause" else "other"})
            add(city, "internship.resumed", person, resumed, {**ids, "on": resumed.isoformat()})
        elif pattern in ("hired_late", "hired_early"):
            # Late: a fifth of the period left (full subsidy); early: two thirds left.
            fraction = 0.8 if pattern == "hired_late" else 0.33
            signed = start + timedelta(days=int((end - start).days * fraction))
            add(city, "contract.signed", person, signed,
                {"person_id": person, "employer_id": unit, "signed_on": signed.isoformat(),
                 "starts_on": signed.isoformat(), "term_months": 24})
        elif pattern == "ended_early":
            left = start + timedelta(days=rng.randint(40, 80))
            add(city, "internship.ended", person, left, {**ids, "on": left.isoformat(), "reason": "quit"})

    # Three bad records and a duplicate, among the good ones.
    bad_months = _event(tag, 90001, "2101", "internship.agreement_signed", f"{tag}X1", date(2020, 3, 2),
                        {"person_id": f"{tag}X1", "unit_id": f"{tag}U00", "city": "2101",
                         "starts_on": "2020-03-02", "months": 15, "cohort": 2020})
    unknown_type = _event(tag, 90002, "2101", "internship.teleported", f"{tag}X2", date(2020, 3, 2), {"person_id": f"{tag}X2"})
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    lines.insert(len(lines) // 3, json.dumps(bad_months))
    lines.insert(len(lines) // 2, json.dumps(unknown_type))
    lines.insert(2 * len(lines) // 3, f"{{not json at all {tag}")
    lines.append(json.dumps(events[0], ensure_ascii=False))
    scenario.lines = lines
    scenario.expected_dead_letters = 3
    scenario.duplicates = 1
    return scenario
