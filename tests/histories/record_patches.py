"""Record a committed history for each `workflow.patched` branch that no scenario takes, so
`tests/workflow/test_replay.py` replays it: late facts reaching a closed case, deliveries out of
order, a supervisor's decision on an overpayment_recovery task, a refusal quarantined on the case
and re-driven, a close waiting for months owed after today. Simulate scenarios are delivered in business-time order and take no decisions, so
these come from the workflow tests that take
the branch: each recording runs one test on a fresh time-skipping server (the test's client
notes the workflows it starts: that server lists none) and writes the history of the case that
recorded the patch's marker (the longest, if several did) as ``tests/histories/<name>.json``.

    .venv/bin/python -m tests.histories.record_patches            # every recording below
    .venv/bin/python -m tests.histories.record_patches NAME ...   # some of them

Re-record only when a workflow change is meant to change the commands cases emit (see
tests/histories/record.py), and then under a new name, beside the old histories.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, Interceptor, OutboundInterceptor, StartWorkflowInput, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from app.simulate import quiet_runtime, test_server_path
from contracts.temporal import DATA_CONVERTER
from tests.histories.record_late_lift import patches
from tests.workflow import (
    test_case_refusal_quarantine_workflow,
    test_enterprise_si_subsidy_corrections,
    test_flexible_employment_subsidy_corrections,
    test_internship_subsidy,
    test_order_independence,
    test_overpayment_recovery_decision,
)
from workflows import (
    case_base,
    dibao_taper,
    employment_service_subsidy,
    enterprise_si_subsidy,
    flexible_employment_subsidy,
    hiring_subsidy,
    hubei_graduate_grant,
    incubator_subsidy,
    internship_subsidy,
    startup_loan_interest,
)

HERE = Path(__file__).resolve().parent
Test = Callable[[WorkflowEnvironment], Awaitable[None]]

# name → (the patch whose branch the history must take, the test that takes it)
RECORDINGS: dict[str, tuple[str, Test]] = {
    "internship_subsidy_late_facts_correct": (
        internship_subsidy.LATE_FACTS_CORRECT, test_order_independence.test_k1_a_hire_arriving_after_the_internship_completed_removes_the_months_after_it),
    "internship_subsidy_open_pause_owes_nothing": (
        internship_subsidy.OPEN_PAUSE_OWES_NOTHING,
        test_order_independence.test_k1_an_open_interruption_arriving_after_a_month_it_holds_was_paid_owes_nothing_for_it),
    "dibao_taper_latest_grant_stands": (
        dibao_taper.LATEST_GRANT_STANDS, test_order_independence.test_a_restated_grant_stands_whatever_order_it_arrives_dibao_taper),
    # An end dated after the business day (sent just before midnight for the next day): the case
    # stays open, pays the month completing that day on it, then closes.
    "internship_subsidy_close_once_owed_fell_due": (
        internship_subsidy.CLOSE_ONCE_OWED_FELL_DUE,
        test_internship_subsidy.test_k1_an_end_sent_just_before_midnight_for_the_next_day_pays_the_month_completing_that_day),
    "internship_subsidy_resume_matches_its_pause": (
        internship_subsidy.RESUME_MATCHES_ITS_PAUSE,
        test_order_independence.test_a_resumption_ends_its_own_pause_whatever_order_it_arrives_internship_subsidy),
    "startup_loan_interest_order_independent": (
        startup_loan_interest.ORDER_INDEPENDENT,
        test_order_independence.test_k13_an_original_interest_report_arriving_after_its_correction_does_not_replace_it),
    "hiring_subsidy_latest_report_stands": (
        hiring_subsidy.LATEST_REPORT_STANDS,
        test_order_independence.test_a_corrected_report_stands_whatever_order_it_arrives_hiring_subsidy),
    "hubei_graduate_grant_latest_application_stands": (
        hubei_graduate_grant.LATEST_APPLICATION_STANDS,
        test_order_independence.test_a_corrected_report_stands_whatever_order_it_arrives_hubei_graduate_grant),
    "incubator_subsidy_latest_report_stands": (
        incubator_subsidy.LATEST_REPORT_STANDS,
        test_order_independence.test_a_corrected_report_stands_whatever_order_it_arrives_incubator_subsidy),
    "incubator_subsidy_latest_rent_relief_stands": (
        incubator_subsidy.LATEST_RELIEF_STANDS,
        test_order_independence.test_a_corrected_rent_relief_stands_whatever_order_it_arrives_incubator_subsidy),
    "employment_service_subsidy_late_jobs": (
        employment_service_subsidy.LATE_JOBS, test_order_independence.test_k18_a_job_arriving_after_the_quarter_was_settled_confirms_the_placement),
    "unemployment_insurance_recovery_decision": (
        case_base.ACT_ON_RECOVERY_DECISION,
        test_overpayment_recovery_decision.test_overpayment_repaid_by_the_payee_closes_the_receivable_and_a_later_overpayment_gets_its_own_task),
    "unemployment_insurance_run_until_recovery_decided": (
        case_base.RUN_UNTIL_RECOVERY_DECIDED, test_overpayment_recovery_decision.test_overpayment_recovery_decided_after_the_correction_days_is_still_taken),
    "flexible_employment_subsidy_late_facts_correct": (
        flexible_employment_subsidy.LATE_FACTS_CORRECT,
        test_flexible_employment_subsidy_corrections.test_k4_corrected_report_still_corrects_a_case_within_the_correction_days_after_it_closed),
    "enterprise_si_subsidy_late_facts_correct": (
        enterprise_si_subsidy.LATE_FACTS_CORRECT,
        test_enterprise_si_subsidy_corrections.test_k15_corrected_report_still_corrects_a_case_within_the_correction_days_after_it_closed),
    "internship_subsidy_schedule_in_read_model": (
        case_base.SCHEDULE_IN_READ_MODEL, test_order_independence.test_k1_a_hire_arriving_after_the_internship_completed_removes_the_months_after_it),
    "enterprise_si_subsidy_fee_exemption_delivered": (
        enterprise_si_subsidy.FEE_EXEMPTION_DELIVERED,
        test_enterprise_si_subsidy_corrections.test_k15_fee_exemption_reaching_a_closed_hire_in_its_window_corrects_it),
    # A refusal quarantined on the case, then re-driven (the `redrive` update): refused again,
    # and taken once the case was reopened.
    "job_retention_refund_quarantine_refused_in_case": (
        case_base.QUARANTINE_REFUSED_IN_CASE, test_case_refusal_quarantine_workflow.test_a_redrive_the_case_still_refuses_stays_quarantined),
    "job_retention_refund_redrive_taken": (
        case_base.QUARANTINE_REFUSED_IN_CASE,
        test_case_refusal_quarantine_workflow.test_a_redriven_refusal_is_taken_when_the_case_can_take_it_now),
}


class _Started(Interceptor):
    """Notes the id of every workflow the client starts."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _NoteStarts(next, self.ids)


class _NoteStarts(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, ids: list[str]) -> None:
        super().__init__(next)
        self._ids = ids

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        self._ids.append(input.id)
        return await super().start_workflow(input)


class _Noted:
    """The environment as the test uses it, with the noting client."""

    def __init__(self, env: WorkflowEnvironment, client: Client) -> None:
        self._env = env
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


async def record(name: str) -> tuple[str, dict[str, Any]]:
    """Run the recording's test on a fresh server; the history of the case that took the patch."""
    patch, test = RECORDINGS[name]
    started = _Started()
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=test_server_path(), runtime=quiet_runtime()
    ) as env:
        config = env.client.config()
        config["interceptors"] = [started]
        client = Client(**config)
        await test(_Noted(env, client))  # type: ignore[arg-type]
        taken: list[tuple[int, str, dict[str, Any]]] = []
        for workflow_id in sorted(set(started.ids)):
            history = json.loads((await client.get_workflow_handle(workflow_id).fetch_history()).to_json())
            if patch in patches(history):
                taken.append((len(history["events"]), workflow_id, history))
    if not taken:
        raise SystemExit(f"{name}: no case of {test.__name__} took the branch of {patch}")
    _, workflow_id, history = max(taken, key=lambda t: (t[0], t[1]))
    return workflow_id, history


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", default=sorted(RECORDINGS), help="recordings to make (default: all)")
    args = parser.parse_args(argv)
    for name in args.names:
        workflow_id, history = await record(name)
        target = HERE / f"{name}.json"
        target.write_text(json.dumps({"workflow_id": workflow_id, "history": history}, indent=1) + "\n", encoding="utf-8")
        print(f"{target.name}: {workflow_id}, {len(history['events'])} events")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
