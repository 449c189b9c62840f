"""Record the K2 history of an epidemic lift announcement that arrives after the correction it
was corrected by (workflow.patched "epidemic-later-announcement-stands"), so replay covers the
patched branch. Simulate scenarios are delivered in business-time order and cannot say this:
the delivery is the order-independence test's (tests/workflow/test_order_independence.py).

    .venv/bin/python -m tests.histories.record_late_lift
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app.simulate import quiet_runtime, test_server_path
from contracts.temporal import DATA_CONVERTER
from tests.workflow._order_independence import Delivery, Event, Sequence, person_id, run
from tests.workflow.harness import world
from tests.workflow.test_order_independence import K2_FIRST_DAY, _k2_opening, _lifted, _reemployed
from workflows.case_base import EPIDEMIC_LATER_ANNOUNCEMENT_STANDS

TARGET = Path(__file__).resolve().parent / "unemployment_insurance_late_lift.json"


async def record() -> tuple[str, dict]:
    first = Event("lifted 2020-03-04", date(2020, 3, 4), _lifted(date(2020, 3, 4)))
    corrected = Event("lift corrected to 2020-03-01", date(2020, 3, 5), _lifted(date(2020, 3, 1)))
    # Re-employed in benefit month 4 (06-02: its uplift is what the two lift dates disagree on),
    # so the case closes and its history is complete.
    closing = Event("reemployed", date(2020, 6, 20), _reemployed(date(2020, 6, 20)))
    sequence = Sequence(K2_FIRST_DAY, _k2_opening(), (first, corrected), closing, date(2020, 7, 10))
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=test_server_path(), runtime=quiet_runtime()
    ) as env:
        async with world(env, sequence.first_day) as w:
            person = person_id("unemployment_insurance")
            await run(w, person, sequence, Delivery((1, 0), (0, 0)))
            (case_id,) = [c for c in w.store.cases if c.startswith("ui/")]
            assert w.status(case_id) == "reemployed", w.status(case_id)
            history = await env.client.get_workflow_handle(case_id).fetch_history()
            return case_id, json.loads(history.to_json())


def patches(history: dict) -> list[str]:
    """The ids of the patch markers in a history (their details are encoded payloads)."""
    found = []
    for event in history["events"]:
        marker = event.get("markerRecordedEventAttributes", {})
        for payload in marker.get("details", {}).get("patch-data", {}).get("payloads", []):
            found.append(json.loads(base64.b64decode(payload["data"]))["id"])
    return found


def main() -> None:
    case_id, history = asyncio.run(record())
    assert EPIDEMIC_LATER_ANNOUNCEMENT_STANDS in patches(history), "the patched branch was not taken"
    TARGET.write_text(json.dumps({"workflow_id": case_id, "history": history}, indent=1) + "\n", encoding="utf-8")
    print(f"{TARGET.name}: {case_id}, {len(history['events'])} events")


if __name__ == "__main__":
    main()
