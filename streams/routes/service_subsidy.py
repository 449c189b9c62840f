"""Routes of K18 employment_service_subsidy (就业创业服务补助, §20): one case per agency and year."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import service_subsidy
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, StartCase, signal_open

KIND = kinds.EMPLOYMENT_SERVICE_SUBSIDY
HOLDS_SHARED_FACTS = True  # a change of the per-service amounts applies to the quarters after it
# The employments that confirm a placement, read by the case when the quarter is settled.
FACT_TYPES = tuple(sorted(service_subsidy.CONFIRMING_FACTS))
# A case (opened under `k18-late-jobs`) is found by each person it placed: a job arriving after
# the quarter was settled, even after the year closed, corrects it while it listens (POLICY.md
# part 2).
LATE_FACTS = FACT_TYPES


def delivered(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """Every service reaches its agency's case of the service's year (the first one opens it)."""
    d = event.data
    year = date.fromisoformat(d["on"]).year
    return [StartCase(kind=KIND, case_id=kinds.service_subsidy_case_id(d["agency_id"], year), city=d["city"], keys=[service_subsidy.payee(d["agency_id"])])]


def employed(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """A placed person's job reaches the agency cases that placed the person (open, or closed and
    listening): each judges whether it confirms a placement."""
    key = f"person/{event.data['person_id']}"
    return signal_open([c for c in [*open_cases, *listening] if c.key == key], KIND) or [
        Ignore(f"no agency case placed {key}")
    ]


ROUTES: dict[str, Handler] = {"service.delivered": delivered, **{t: employed for t in FACT_TYPES}}
