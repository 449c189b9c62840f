"""The preview of a proposed parameter change (POLICY.md part 2, "Parameter changes with a
preview and two pairs of eyes"), computed by the cases' own rules: the events the cases have
seen are run through `simulate` (the production routing and workflows) twice, once as they are
and once with the proposal's `policy.parameter.changed` announced after them, and the two
ledgers are compared. There is no second implementation of any amount here: what differs is
what the workflows themselves pay, including the corrections a past effective date makes them
write (issue 13's correction machinery).

The result: the cases touched, per month (of the due date) and fund what is paid before and
after, the corrections the change causes, and a sample of touched cases with their months
before and after.

The events are a file the operator supplies (`preview`) or rebuilt from the live store
(`preview_live`, app/live_events.py: the inbox names them, Kafka keeps them); both go through
the same `preview`."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from app.live_events import EventsGone, live_events
from app.simulate import read_scenario, simulate
from console.service.core import Previewer
from contracts.settings import Settings
from policy.calendar import SHANGHAI
from policy.corrections import WORTH_SIGN
from policy.pack import PolicyPack, load_pack
from policy.parameter_schema import change_event, validate_change

SAMPLE_CASES = 5
# The preview's change is announced this long after the last event the cases have seen.
ANNOUNCED_AFTER = timedelta(hours=1)
PREVIEW_EVENT_ID = "preview"
# The scenario name a preview from the live store reports (its `scenario` field).
LIVE_SCENARIO = "live-store.jsonl"

Worth = dict[tuple[str, str], int]  # (month, fund) → fen paid, corrections netted


def worth_by_month_and_fund(payments: list[dict[str, Any]], case_id: str | None = None) -> Worth:
    """What a ledger pays per month of the due date and fund (arrears add, overpayments subtract)."""
    total: dict[tuple[str, str], int] = defaultdict(int)
    for p in payments:
        if case_id is None or p["case_id"] == case_id:
            total[(p["due_on"][:7], p["fund"])] += WORTH_SIGN[p.get("entry", "payment")] * p["amount"]
    return dict(total)


def difference(before: Worth, after: Worth) -> list[dict[str, Any]]:
    """Rows (month, fund, before, after, difference) where the two differ, in month order."""
    rows = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key, 0), after.get(key, 0)
        if a != b:
            rows.append({"month": key[0], "fund": key[1], "before": b, "after": a, "difference": a - b})
    return rows


def compare(before: dict[str, Any], after: dict[str, Any], change_key: str) -> dict[str, Any]:
    """The preview of two `simulate` results: without and with the change (the event whose key,
    `source#id`, is `change_key`: the cause the corrections it makes name)."""
    kinds = {c["case_id"]: c["kind"] for c in after["cases"]}
    touched = []
    for case_id in sorted({p["case_id"] for p in before["payments"]} | {p["case_id"] for p in after["payments"]}):
        rows = difference(worth_by_month_and_fund(before["payments"], case_id),
                          worth_by_month_and_fund(after["payments"], case_id))
        if rows:
            touched.append({"case_id": case_id, "kind": kinds.get(case_id), "months": rows})
    corrections = [c for c in after["corrections"] if c.get("cause") == change_key]
    by_month = difference(worth_by_month_and_fund(before["payments"]), worth_by_month_and_fund(after["payments"]))
    return {
        "cases_touched": len(touched),
        "cases_seen": len(after["cases"]),
        "touched_cases": [t["case_id"] for t in touched],
        "by_month_and_fund": by_month,
        "total_difference": sum(r["difference"] for r in by_month),
        "corrections": corrections,
        "sample": touched[:SAMPLE_CASES],
    }


async def preview(scenario: Path, name: str, value: Any, city: str | None, effective_on: date, until: date,
                  pack: PolicyPack | None = None, announced_at: datetime | None = None) -> dict[str, Any]:
    """The preview of one change over the cases of `scenario` (a JSONL file of CloudEvents),
    run to the end of `until`."""
    pack = pack or load_pack()
    value = validate_change(pack, name, value, city)
    events = read_scenario(scenario).events
    if announced_at is None:
        announced_at = (events[-1][1].time if events else datetime.now().astimezone()) + ANNOUNCED_AFTER
    event = change_event(PREVIEW_EVENT_ID, name, value, city, effective_on, announced_at)
    before = await simulate(scenario, until, pack)
    with tempfile.TemporaryDirectory(prefix="jiuye-preview-") as tmp:
        changed = Path(tmp) / scenario.name
        changed.write_bytes(scenario.read_bytes().rstrip(b"\n") + b"\n" + json.dumps(event).encode() + b"\n")
        after = await simulate(changed, until, pack)
    result = compare(before, after, f"{event['source']}#{event['id']}")
    result.update({"name": name, "value": value, "city": city, "effective_on": effective_on.isoformat(),
                   "announced_at": announced_at.isoformat(), "until": until.isoformat(), "scenario": scenario.name})
    return result


async def preview_live(pool: asyncpg.Pool, settings: Settings, name: str, value: Any, city: str | None,
                       effective_on: date, until: date, pack: PolicyPack | None = None,
                       announced_at: datetime | None = None) -> dict[str, Any]:
    """The preview of one change over the events the cases it reaches have seen, rebuilt from
    the live store; the change is announced now (as its approval would announce it), unless told."""
    read = await live_events(pool, settings, city)
    lines = read.lines
    with tempfile.TemporaryDirectory(prefix="jiuye-preview-live-") as tmp:
        scenario = Path(tmp) / LIVE_SCENARIO
        scenario.write_bytes(b"".join(line + b"\n" for line in lines))
        result = await preview(scenario, name, value, city, effective_on, until, pack,
                               announced_at or datetime.now(SHANGHAI))
    # How many events the preview ran on, and how many Kafka records reading them back took
    # (only the offsets the inbox names, app/live_events.py: far fewer than the topics hold).
    result["events"] = len(lines)
    result["records_read"] = read.records_read
    return result


def live_previewer(settings: Settings, pack: PolicyPack | None = None) -> Previewer:
    """`preview_live` as the console's `Previewer` (handed to the console by the entry point that
    serves it): events past Kafka's retention become the console's refusal, with the reason."""
    from console.service.errors import Conflict
    from streams.app import business_clock_offset

    # The change is announced on the cases' clock: with JIUYE_BUSINESS_DATE (development, `jiuye
    # demo`) the business clock from this process's start, as the disbursement desk keeps it; a
    # case of a past year still listening for corrections on that clock would otherwise be
    # previewed as if the change came years after its window.
    offset = timedelta(seconds=business_clock_offset(settings))

    async def previewer(pool: asyncpg.Pool, name: str, value: Any, city: str | None, effective_on: date,
                        until: date) -> dict[str, Any]:
        try:
            return await preview_live(pool, settings, name, value, city, effective_on, until, pack,
                                      announced_at=datetime.now(SHANGHAI) + offset)
        except EventsGone as exc:
            raise Conflict(f"no preview from the live store: {exc}") from None

    return previewer
