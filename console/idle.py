"""The barrier `simulate` and the workflow tests wait at before they read the store or move time
on: every case of a run is idle on the time-skipping server — no workflow task, activity, child
start or signal to another case outstanding.

Activities run outside server time, so `env.sleep` returning does not mean the work it made due
is done; and the test server's describe() does not report pending tasks, hence the history scan.
A case idle once can be woken by another case's signal or child start, so the barrier holds only
when two scans in a row find every case idle with unchanged histories: then there was an
instant, between the scans, when all of them were idle at once. Cases a scanned case opened
(`start_child_workflow`) are scanned too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.memory_store import MemoryStore

_E = EventType
# Event → the outstanding thing it opens; closing events name what they close (by the id of the
# opening event, or for a workflow task the last one scheduled).
_OPENS = {
    _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
    _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
}
_CLOSES = {
    _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: ("activity_task_completed_event_attributes", "scheduled_event_id"),
    _E.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("activity_task_failed_event_attributes", "scheduled_event_id"),
    _E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: ("activity_task_timed_out_event_attributes", "scheduled_event_id"),
    _E.EVENT_TYPE_ACTIVITY_TASK_CANCELED: ("activity_task_canceled_event_attributes", "scheduled_event_id"),
    _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED: ("child_workflow_execution_started_event_attributes", "initiated_event_id"),
    _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: ("start_child_workflow_execution_failed_event_attributes", "initiated_event_id"),
    _E.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED: ("external_workflow_execution_signaled_event_attributes", "initiated_event_id"),
    _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED: ("signal_external_workflow_execution_failed_event_attributes", "initiated_event_id"),
}
_TASK_DONE = {_E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, _E.EVENT_TYPE_WORKFLOW_TASK_FAILED, _E.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT}


@dataclass(frozen=True)
class Scan:
    """One look at a case's current run: whether it is idle, how far its history goes, and the
    cases it opened."""

    idle: bool
    # (the run it continued, last event id): unchanged ⇔ nothing happened since (a run that
    # continued as new names the run before it, so no two runs of a case share the first part)
    last_event: tuple[str, int]
    children: frozenset[str]


async def scan(client: Client, workflow_id: str) -> Scan:
    task = False
    outstanding: set[int] = set()
    children: set[str] = set()
    last = 0
    run = ""
    try:
        async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
            last = event.event_id
            if event.event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                run = event.workflow_execution_started_event_attributes.continued_execution_run_id
            elif event.event_type == _E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                task = True
            elif event.event_type in _TASK_DONE:
                task = False
            elif event.event_type in _OPENS:
                outstanding.add(event.event_id)
            elif event.event_type in _CLOSES:
                field, opener = _CLOSES[event.event_type]
                attributes = getattr(event, field)
                outstanding.discard(getattr(attributes, opener))
                if event.event_type == _E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
                    children.add(attributes.workflow_execution.workflow_id)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:  # registered but never started: nothing to wait for
            return Scan(idle=True, last_event=("", 0), children=frozenset())
        raise
    return Scan(idle=not task and not outstanding, last_event=(run, last), children=frozenset(children))


async def wait_until_idle(client: Client, workflow_ids: Iterable[str], timeout: float = 120.0, poll: float = 0.02) -> None:
    """Return once every case of `workflow_ids` (and every case they opened) was idle at one
    instant; AssertionError after `timeout` seconds (a workflow task that keeps failing, an
    activity that keeps retrying)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    ids = set(workflow_ids)
    previous: dict[str, Scan] = {}
    while True:
        scans = dict(zip(sorted(ids), await asyncio.gather(*(scan(client, i) for i in sorted(ids))), strict=True))
        opened = {c for s in scans.values() for c in s.children} - ids
        if not opened and all(s.idle for s in scans.values()) and scans == previous:
            return
        if loop.time() > deadline:
            busy = sorted(i for i, s in scans.items() if not s.idle)
            raise AssertionError(f"cases still busy after {timeout}s (a failing workflow task?): {busy}")
        ids |= opened
        previous = scans
        if not all(s.idle for s in scans.values()):
            await asyncio.sleep(poll)


def case_ids(store: MemoryStore) -> set[str]:
    """Every case a run's store knows: those the intake routed to and those that recorded themselves."""
    return {c.case_id for cases in store.keys.values() for c in cases.values()} | set(store.cases)


__all__ = ["Scan", "case_ids", "scan", "wait_until_idle"]
