"""A stand-in, for the workflow tests of the one-off kinds (K6, K7, K11), for the base's
after-close window (POLICY.md part 2: "Facts still correct a case up to `ledger.correction_days`
after it closed"), which helper "after" builds in workflows/case_base.py. Until it lands these
kinds close the moment they pay, so a correcting fact can only reach them through this.

It keeps the real kind's code and hooks: a closed case waits for events until
`ledger.correction_days` after it closed, hands each to `apply` and then calls `settle` — the
contract workflows/_one_off.py states. The tests signal the case directly (`send_to_closed`)
because the intake does not route to a closed case before the window exists.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from temporalio import workflow

from contracts.cases import CaseEvent, CaseInput, CaseOutcome
from tests.workflow._k45_harness import Harness
from workflows.hiring_subsidy import HiringSubsidyWorkflow
from workflows.hubei_graduate_grant import HubeiGraduateGrantWorkflow
from workflows.job_retention_refund import JobRetentionRefundWorkflow

_ids = count(1)


class _ListensAfterClose:
    async def finish(self) -> CaseOutcome:
        case: Any = self
        if case.closed_on is not None and case.params is not None:
            until = case.closed_on + timedelta(days=int(case.params.get("ledger.correction_days", case.closed_on)))
            while case.today() < until:
                await case.wait_for_event(until)
                events = case.take_pending()
                for ev in events:
                    await case.apply(ev)
                if events:
                    await case.settle(case.today())
        return await super().finish()  # type: ignore[misc, no-any-return]


@workflow.defn(name="hubei_graduate_grant", sandboxed=False)
class ListeningHubeiGrant(_ListensAfterClose, HubeiGraduateGrantWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)


@workflow.defn(name="job_retention_refund", sandboxed=False)
class ListeningRetention(_ListensAfterClose, JobRetentionRefundWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)


@workflow.defn(name="hiring_subsidy", sandboxed=False)
class ListeningHiring(_ListensAfterClose, HiringSubsidyWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)


async def send_to_closed(h: Harness, case_ids: str | list[str], type_: str, data: dict[str, Any], subject: str,
                         when: datetime, source: str = "es/2101") -> str:
    """Signal one event to closed cases at its business time (what the window's routing will
    do); returns its key (`source#id`), the cause a correction names."""
    await h.advance_to(when)
    ev = CaseEvent(source=source, id=f"w-{next(_ids)}", type=type_, subject=subject, time=when, data=data)
    h.sent.append(json.loads(ev.model_dump_json()))
    for case_id in [case_ids] if isinstance(case_ids, str) else case_ids:
        await h.handle(case_id).signal("event", ev)
    await h.settle()
    return ev.key
