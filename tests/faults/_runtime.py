"""An intake runtime that counts what the real intake decided for each delivery, so a test can
report how many duplicates were absorbed (the inbox keeps one row per id, not per delivery)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from activities.store import Origin
from contracts.settings import Settings
from streams.app import IntakeRuntime
from streams.gateway import CaseGateway
from streams.intake import Intake, Outcome


class CountingRuntime(IntakeRuntime):
    """The production runtime; `outcomes` counts Outcome.status over every delivery handled.
    `history_limit` (tests only) lowers the continue-as-new threshold of the cases it starts."""

    def __init__(self, settings: Settings, outcomes: Counter[str] | None = None, history_limit: int | None = None):
        super().__init__(settings)
        self.outcomes: Counter[str] = outcomes if outcomes is not None else Counter()
        self.history_limit = history_limit

    async def intake(self) -> Intake:
        real = await super().intake()
        runtime = self
        gateway = real.gateway
        if self.history_limit is not None:
            g = real.gateway
            gateway = CaseGateway(g.client, g.task_queue, clock_offset_seconds=g.clock_offset_seconds,
                                  search_attributes=g.search_attributes, history_limit=self.history_limit)

        class Counting(Intake):
            def __init__(self) -> None:
                super().__init__(real.store, gateway, real.dead_letters, real.pack)

            async def handle_batch(self, records: Sequence[tuple[bytes, Origin]]) -> list[Outcome]:
                outcomes = await super().handle_batch(records)
                runtime.outcomes.update(o.status for o in outcomes)
                return outcomes

        return Counting()
