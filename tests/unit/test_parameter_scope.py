"""A case's context holds only the parameters its kind reads (CaseWorkflow.kind_parameters: the
base's SHARED_PARAMETERS and the kind's `parameter_scope`), cut by `load_context`. That every
kind's reads stay inside its scope is proved by the workflow tier, which runs every test under
tests/workflow/conftest.py's `parameter_reads_outside_the_kinds_scope`; these check the cut
itself, the scopes' spelling, the names a kind's module spells out, and what a case does with a
change of a parameter its context does not hold."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from activities.case_activities import CaseActivities
from activities.memory_store import MemoryStore
from activities.store import SharedFact
from contracts.cases import CaseEvent, ContextRequest
from contracts.parameters import UnknownParameter, in_scope
from policy.pack import PolicyPack, load_pack
from workflows.case_base import SHARED_PARAMETERS, CaseWorkflow
from workflows.hubei_graduate_grant import HubeiGraduateGrantWorkflow
from workflows.registry import KINDS, WORKFLOWS

ROOT = Path(__file__).resolve().parents[2]
PACK = load_pack()
K11 = HubeiGraduateGrantWorkflow.kind_parameters()


def test_a_kinds_context_holds_its_own_and_the_shared_parameters_and_no_other() -> None:
    context = PACK.parameters("2101").within(K11)
    assert set(context.values) == {n for n in PACK.defaults if n.startswith(("hubei_grant.", *SHARED_PARAMETERS))}
    assert context.integer("hubei_grant.amount") == 150000 and context.integer("ledger.correction_days") == 365
    with pytest.raises(UnknownParameter):
        context.get("loan.max_term_months")


def test_a_scope_entry_ending_in_a_dot_is_every_parameter_of_that_measure_and_any_other_one_name() -> None:
    scope = ("ua.", "ui.monthly_benefit")
    assert in_scope("ua.months", scope) and in_scope("ui.monthly_benefit", scope)
    assert not in_scope("ui.epidemic_uplift", scope) and not in_scope("uax.months", scope)


def test_a_new_parameter_of_a_kinds_measure_is_in_its_context_without_declaring_it() -> None:
    pack = PolicyPack(name=PACK.name, defaults={**PACK.defaults, "hubei_grant.new_rule": 7}, cities=PACK.cities)
    assert pack.parameters("2101").within(K11).integer("hubei_grant.new_rule") == 7


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_entry_of_a_kinds_scope_names_parameters_of_the_pack(kind: str) -> None:
    """A misspelt entry would leave a parameter out of the context (its reads then fail)."""
    for entry in KINDS[kind].kind_parameters():
        assert any(in_scope(name, (entry,)) for name in PACK.defaults), f"{kind}: {entry!r} names no parameter of {PACK.name}"


@pytest.mark.parametrize("cls", WORKFLOWS, ids=lambda c: c.kind)
def test_every_parameter_a_kinds_workflow_module_names_is_in_its_scope(cls: type[CaseWorkflow]) -> None:
    """The static half of the proof: names spelt out in the kind's own module (the policy
    modules it calls are shared between kinds, so their reads are proved by running them)."""
    source = (ROOT / "workflows" / f"{cls.__module__.rpartition('.')[2]}.py").read_text(encoding="utf-8")
    named = {n for n in PACK.defaults if re.search(rf"[\"']{re.escape(n)}[\"']", source)}
    assert sorted(n for n in named if not in_scope(n, cls.kind_parameters())) == []


async def test_load_context_cuts_the_parameters_to_the_requested_scope_after_the_stored_changes() -> None:
    store = MemoryStore()
    store.facts[("policy/21", "c1")] = SharedFact(
        type="policy.parameter.changed", scope="province", on_date=date(2020, 5, 1),
        payload={"city": None, "name": "hubei_grant.amount", "value": 200000, "effective_on": "2020-05-01"},
        event_time=datetime(2020, 4, 20, tzinfo=timezone.utc))
    acts = CaseActivities(store, PACK)
    trimmed = await acts.load_context(ContextRequest(city="2101", kind="hubei_graduate_grant", scope=list(K11)))
    assert trimmed.parameters.scope == K11
    assert all(in_scope(n, K11) for n in trimmed.parameters.values)
    assert trimmed.parameters.integer("hubei_grant.amount", date(2020, 5, 2)) == 200000
    whole = await acts.load_context(ContextRequest(city="2101", kind="hubei_graduate_grant"))
    assert whole.parameters.scope is None and set(whole.parameters.values) == set(PACK.defaults)


def _change(name: str, value: int) -> CaseEvent:
    return CaseEvent(source="policy/21", id=f"c-{name}", type="policy.parameter.changed", subject="province/21",
                     time=datetime(2020, 6, 1, tzinfo=timezone.utc),
                     data={"city": None, "name": name, "value": value, "effective_on": "2020-06-01"})


def test_a_case_with_its_kinds_context_ignores_a_change_of_a_parameter_outside_it() -> None:
    case = HubeiGraduateGrantWorkflow()
    case.city, case.params = "2101", PACK.parameters("2101").within(K11)
    before = case.params
    assert case.apply_shared_fact(_change("loan.max_term_months", 24)) is True
    assert case.params == before and case.timeline == []
    case.apply_shared_fact(_change("hubei_grant.amount", 200000))
    assert case.params.integer("hubei_grant.amount", date(2020, 6, 1)) == 200000 and len(case.timeline) == 1


def test_a_case_with_the_whole_pack_takes_every_change_and_keeps_the_whole_pack_when_loading_again() -> None:
    """A case opened before kinds had scopes (or continued from one) behaves as before: the
    change is applied and noted, and `load_context` asks it for the whole pack again."""
    case = HubeiGraduateGrantWorkflow()
    case.city, case.params = "2101", PACK.parameters("2101")
    case.apply_shared_fact(_change("loan.max_term_months", 24))
    assert case.params.integer("loan.max_term_months", date(2020, 6, 1)) == 24 and len(case.timeline) == 1
    assert case.context_scope() is None
