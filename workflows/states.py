"""The typed state of each case kind: what its workflow knows beyond what every case knows
(case_base.CaseWorkflow), and what continue-as-new carries for it.

A kind's state is a dataclass whose fields all have defaults; the base writes its fields as
top-level keys of the carried payload (dates as ISO strings, models as their JSON dump, int keys
as strings): the format every kind's hand-written carry used before the template, so a run
continued by older code restores under this one, and a field added later takes its default.

This module is imported passed through the workflow sandbox, and each state's adapter is built
here when the module is first imported (outside any sandbox): inside one, `datetime.date` is a
restricted proxy that pydantic cannot build a schema for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, TypeVar, dataclass_transform

from pydantic import TypeAdapter

from contracts.events import DibaoGranted, InternshipAgreementSigned, LayoffPlanFiled, UnemploymentRegistered
from policy import internship as k1


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}
T = TypeVar("T")


@dataclass_transform(field_specifiers=(field,))
def case_state(cls: type[T]) -> type[T]:
    """A kind's state: a dataclass, with its adapter built now."""
    state_type = dataclass(cls)
    _ADAPTERS[state_type] = TypeAdapter(state_type)
    return state_type


def dump_state(state: Any) -> dict[str, Any]:
    return _ADAPTERS[type(state)].dump_python(state, mode="json")  # type: ignore[no-any-return]


def load_state(state_type: type[T], carried: dict[str, Any]) -> T:
    names = [f.name for f in fields(state_type)]  # type: ignore[arg-type]
    return _ADAPTERS[state_type].validate_python({n: carried[n] for n in names if n in carried})  # type: ignore[no-any-return]


# -- internship_subsidy ----------------------------------------------------------------
@case_state
class InternshipState:
    agreement: InternshipAgreementSigned | None = None
    pauses: list[k1.Pause] = field(default_factory=list)
    months_paid: int = 0


# -- unemployed_followup ---------------------------------------------------------------
@case_state
class FollowupState:
    registration: UnemploymentRegistered | None = None
    followed: dict[int, date] = field(default_factory=dict)  # registered month → first contact dated in it
    checked_through: int = 0  # months whose escalation day has been judged
    escalations: dict[int, str] = field(default_factory=dict)  # registered month → escalation task id
    long_term_since: date | None = None
    training_checked: bool = False
    training_notice_on: date | None = None
    anniversary_checked: bool = False
    treated_as: dict[str, date] = field(default_factory=dict)  # 参照 group → the day it started to hold
    categories: list[str] = field(default_factory=list)  # K12's latest answer
    categories_on: date | None = None
    referrals: int = 0


# -- dibao_taper -----------------------------------------------------------------------
@case_state
class DibaoState:
    grant: DibaoGranted | None = None
    employed_on: date | None = None
    decision_task: str | None = None
    months: int | None = None
    decided_by: str | None = None
    months_paid: int = 0


# -- layoff_plan -----------------------------------------------------------------------
@case_state
class LayoffState:
    plan: LayoffPlanFiled | None = None
    mass: bool = False
    union_notified_on: date | None = None
    executed_on: date | None = None
    executed_persons: int = 0
    premature: bool = False
    # The last day the obligations may be settled (§3); re-aimed by an `extend` decision.
    obligations_due: date | None = None
    escalated: str | None = None
    settled_before_execution: date | None = None
