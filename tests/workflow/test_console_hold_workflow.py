"""The supervisor hold (the `hold` update of the case base; `supervise` is its older name) on
Temporal's time-skipping server, on a K10 taper case as production starts it.

By hand (POLICY.md K10, shipped parameters): employed 2020-03-10, no decision → 6 months from
2020-04, each paid on the 1st. Held on 2020-03-20, nothing is paid on 2020-04-01 or 2020-05-01;
released on 2020-05-15, the two months that fell due are paid at once with their own due dates
(2020-04-01, 2020-05-01), and the rest on their days.
"""

from __future__ import annotations

from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts import kinds
from contracts.cases import CaseView, SupervisorAction
from tests.workflow.harness import World, at, world

AMOUNT = 60000


async def taper_case(h: World, person: str) -> str:
    data = {"person_id": person, "household_id": f"H{person}", "city": "2101", "monthly_amount": AMOUNT, "from_month": "2020-01"}
    await h.send("dibao.granted", data, at(date(2020, 1, 3)), subject=f"person/{person}", source="ca/2101")
    await h.send("employment.registered", {"person_id": person, "city": "2101", "on": "2020-03-10", "kind": "employee"}, at(date(2020, 3, 10)),
                 source="re/2101")
    return kinds.dibao_taper_case_id(person, "2020-01")


async def hold(h: World, case: str, action: str, reason: str = "income check", by: str = "alice", *,
               update: str = "hold") -> CaseView:
    view = await h.handle(case).execute_update(update, SupervisorAction(action=action, reason=reason, by=by), result_type=CaseView)
    await h.settle()
    return view


def paid(h: World, case: str) -> list[tuple[str, str]]:
    return [(p.period, p.due_on.isoformat()) for p in h.payments(case)]


async def test_supervisor_hold_defers_payments_until_release_with_their_own_due_dates(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3)) as h:
        case = await taper_case(h, "H901")
        await h.advance_to_day(date(2020, 3, 20))
        view = await hold(h, case, "hold")
        assert view.hold is not None and view.hold.by == "alice" and str(view.hold.since) == "2020-03-20"
        assert h.record(case).hold == view.hold, "the case records its hold in the read model itself"
        await h.advance_to_day(date(2020, 5, 15))
        assert paid(h, case) == [], "a held case pays nothing"
        assert any(t.what == "held by alice: income check" for t in (await h.view(case)).timeline)
        view = await hold(h, case, "release", "checked")
        assert view.hold is None and h.record(case).hold is None
        assert paid(h, case) == [("2020-04", "2020-04-01"), ("2020-05", "2020-05-01")]
        await h.advance_to_day(date(2020, 10, 2))
        assert [p for p, _ in paid(h, case)] == ["2020-04", "2020-05", "2020-06", "2020-07", "2020-08", "2020-09"]
        assert h.status(case) == "completed"


async def test_supervisor_hold_refuses_what_makes_no_sense(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3)) as h:
        case = await taper_case(h, "H902")
        for action, reason, needle in (("release", "x", "not held"), ("stop", "x", "hold or release"), ("hold", "  ", "reason")):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await hold(h, case, action, reason)
            assert needle in str(refused.value.cause)
        await hold(h, case, "hold")
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await hold(h, case, "hold", "again")
        assert "already held" in str(twice.value.cause)


async def test_supervisor_hold_survives_continue_as_new(env: WorkflowEnvironment) -> None:
    # A low history limit and a few harmless events (employment again) after the hold make the
    # case continue-as-new while held; the new run still holds, and pays only after release.
    async with world(env, date(2020, 1, 3), history_limit=20) as h:
        case = await taper_case(h, "H903")
        await h.advance_to_day(date(2020, 3, 20))
        await hold(h, case, "hold")
        before = (await h.view(case)).details["generation"]
        for day in (21, 22, 23, 24):
            await h.send("employment.registered", {"person_id": "H903", "city": "2101", "on": f"2020-03-{day}", "kind": "employee"},
                         at(date(2020, 3, day)), source="re/2101")
        view = await h.view(case)
        assert view.details["generation"] > before, "the case should have continued as new while held"
        assert view.hold is not None and view.hold.reason == "income check" and view.hold.by == "alice"
        await h.advance_to_day(date(2020, 5, 15))
        assert paid(h, case) == []
        await hold(h, case, "release", "checked")
        assert paid(h, case) == [("2020-04", "2020-04-01"), ("2020-05", "2020-05-01")]


async def test_the_older_update_name_supervise_is_the_same_hold(env: WorkflowEnvironment) -> None:
    """Histories of running cases carry `supervise`: it still holds and releases, with the same
    rules and typed timeline entries."""
    async with world(env, date(2020, 1, 3)) as h:
        case = await taper_case(h, "H904")
        await h.advance_to_day(date(2020, 3, 20))
        view = await hold(h, case, "hold", update="supervise")
        assert view.hold is not None and view.hold.by == "alice"
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await hold(h, case, "hold", "again", update="supervise")
        assert "already held" in str(twice.value.cause)
        view = await hold(h, case, "release", "checked", update="hold")
        assert view.hold is None
        assert [(t.what, t.type) for t in view.timeline if t.what.startswith(("held", "hold released"))] == [
            ("held by alice: income check", "supervisor"), ("hold released by alice: checked", "supervisor")]
