"""Delivering a late fact to closed cases through the intake, as production does: a case that
paid keeps listening for `ledger.correction_days` after it closed (the base's window,
workflows/case_base.py `listen`), and the routes send it the fact types they list in
`LATE_FACTS` (a second application, a shared fact, an enterprise's or a hire's facts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.workflow.harness import World


async def send_to_closed(h: World, case_ids: str | list[str], type_: str, data: dict[str, Any], subject: str,
                         when: datetime, source: str = "es/2101") -> str:
    """Send one event at its business time through the intake and check that it reached every
    one of `case_ids` (closed, listening); returns its key (`source#id`), the cause a correction
    names."""
    outcome = await h.send(type_, data, when, source=source, subject=subject)
    assert outcome.status == "applied", outcome.detail
    for case_id in [case_ids] if isinstance(case_ids, str) else case_ids:
        assert case_id in outcome.detail, f"{type_} did not reach {case_id}: {outcome.detail}"
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"
