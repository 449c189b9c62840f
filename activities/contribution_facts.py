"""Contribution facts at their natural grain (issue 16 item 2; migration 0014): one home for the
grain, the stored report and how a batch merges, shared by PgStore and MemoryStore.

A `contribution.paid` is stored once per (person, month, employer) — `''` for a person's own
flexible-employment contribution — and read back as the facts it used to be: one per report,
under `person/<id>` and, when an employer pays, under `enterprise/<id>`. The readers (K6/K7/K15
on enterprise and person keys, K4's own contributions, K7's prior-year sum) see exactly what the
per-key fact rows gave them.

Why reports keyed by event instead of sums: the intake delivers at least once, and without an
inbox row for an ignored contribution (its only effect is this write) a redelivered record
reaches the store again. Merging `{source#id: report}` is idempotent — the same record again
adds nothing — while a corrected or replacing report is one more entry, superseded by the
readers as before. Summing would count a redelivery twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import orjson

from activities.store import fact_on_date
from contracts.cases import Fact
from contracts.events import CloudEvent

CONTRIBUTION = "contribution.paid"
# The types stored at their grain instead of one subject_facts row per key: an ignored record of
# one of them needs no inbox row (streams/intake.py), its only effect being this idempotent write.
AGGREGATED_TYPES = frozenset({CONTRIBUTION})
OWN = ""  # the employer column of a contribution that names none

Grain = tuple[str, str, str]  # (person_id, month, employer_id or OWN)


def grain(event: CloudEvent) -> Grain:
    data = event.data
    return data["person_id"], data["month"], data.get("employer_id") or OWN


def report(event: CloudEvent) -> dict[str, Any]:
    """The stored form of one contribution record (what the row keeps under its event key)."""
    on = fact_on_date(event)
    return {"source": event.source, "id": event.id, "time": event.time.isoformat(),
            "on": on.isoformat() if on else None, "payload": event.data}


def report_columns(events: Sequence[CloudEvent]) -> tuple[list[str], list[str], list[str], list[str], list[str],
                                                            list[str], list[str | None], list[str]]:
    """A batch's reports as one list per field, in batch order, for the store to build the
    `report` documents from: person_id, month, employer_id (or OWN), source, id, time (ISO),
    on (ISO or None) and the payload as JSON text."""
    persons, months, employers, sources, ids, times, ons, payloads = [], [], [], [], [], [], [], []
    for event in events:
        data = event.data
        on = fact_on_date(event)
        persons.append(data["person_id"])
        months.append(data["month"])
        employers.append(data.get("employer_id") or OWN)
        sources.append(event.source)
        ids.append(event.id)
        times.append(event.time.isoformat())
        ons.append(on.isoformat() if on else None)
        payloads.append(_json(data))
    return persons, months, employers, sources, ids, times, ons, payloads


def _json(data: dict[str, Any]) -> str:
    """orjson's text of a payload; the standard encoder for what orjson refuses (an integer beyond
    64 bits, which `contracts.events.load_json` may have kept exact in an unknown field)."""
    try:
        return orjson.dumps(data).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data)


def merged(events: Iterable[CloudEvent]) -> dict[Grain, dict[str, dict[str, Any]]]:
    """A batch's reports per grain, sorted by grain (concurrent upserts lock rows in one order).
    Within the batch the first report of an event key stays, as a stored one does."""
    rows: dict[Grain, dict[str, dict[str, Any]]] = {}
    for event in events:
        rows.setdefault(grain(event), {}).setdefault(event.key, report(event))
    return dict(sorted(rows.items()))


def facts_of(key: str, reports: Iterable[dict[str, Any]]) -> list[Fact]:
    """The stored reports of a row as the facts under one of its keys."""
    return [
        Fact(key=key, type=CONTRIBUTION, on_date=date.fromisoformat(r["on"]) if r["on"] else None,
             payload=r["payload"], event_time=datetime.fromisoformat(r["time"]), event_key=f"{r['source']}#{r['id']}")
        for r in reports
    ]


def ids_by_key_kind(keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """(person ids, enterprise ids) among fact keys: the two keys a contribution is read under."""
    persons = [k.removeprefix("person/") for k in keys if k.startswith("person/")]
    enterprises = [k.removeprefix("enterprise/") for k in keys if k.startswith("enterprise/")]
    return persons, enterprises
