"""The intake's only door into Temporal: start-or-signal a case, or signal an open one."""

from __future__ import annotations

import asyncio

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from contracts.cases import CaseEvent, CaseInput
from workflows.case_base import search_attributes_for

SIGNAL = "event"


class CaseGateway:
    """Bounded, idempotent calls: a case id is a business key, so a retried start reaches the
    same case, and a case closed for good is reported as such instead of being reopened."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        *,
        clock_offset_seconds: int = 0,
        search_attributes: bool = True,
        max_in_flight: int = 32,
        history_limit: int | None = None,
    ):
        self.client = client
        self.task_queue = task_queue
        self.clock_offset_seconds = clock_offset_seconds
        self.search_attributes = search_attributes
        self._slots = asyncio.Semaphore(max_in_flight)
        # Tests set a low continue-as-new threshold for the cases they start (None: the default).
        self.history_limit = history_limit

    async def start_or_signal(self, kind: str, case_id: str, city: str | None, event: CaseEvent) -> bool:
        """Signal-with-start; False if a case with this id already closed (the event is late)."""
        async with self._slots:
            try:
                await self.client.start_workflow(
                    kind,
                    CaseInput(
                        case_id=case_id,
                        kind=kind,
                        clock_offset_seconds=self.clock_offset_seconds,
                        search_attributes=self.search_attributes,
                        history_limit=self.history_limit if self.history_limit is not None else CaseInput.model_fields["history_limit"].default,
                    ),
                    id=case_id,
                    task_queue=self.task_queue,
                    start_signal=SIGNAL,
                    start_signal_args=[event],
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=search_attributes_for(kind, city, "active") if self.search_attributes else None,
                )
            except WorkflowAlreadyStartedError:
                return False
            return True

    async def signal(self, case_id: str, event: CaseEvent) -> bool:
        """Signal an open case; False if it has closed meanwhile (the event is late)."""
        async with self._slots:
            try:
                await self.client.get_workflow_handle(case_id).signal(SIGNAL, event)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return False
                raise
            return True

    async def is_running(self, case_id: str) -> bool:
        try:
            desc = await self.client.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return desc.status == WorkflowExecutionStatus.RUNNING
