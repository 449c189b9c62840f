"""The parameters of a city in force: the pack's values (defaults, then the city's overrides) with
every stored `policy.parameter.changed` of the city or the province applied under its effective
date, in the order the changes were announced. One home for that rule: a case's context
(activities/case_activities.py `load_context`) and the disbursement desk
(activities/disbursement_desk.py) both read their parameters through it, so a dated change moves
the desk exactly as it moves the cases."""

from __future__ import annotations

from activities.store import Store
from contracts.parameters import Parameters
from policy.pack import PolicyPack

PARAMETER_CHANGED = "policy.parameter.changed"


async def parameters_in_force(store: Store, pack: PolicyPack, city: str | None) -> Parameters:
    parameters = pack.parameters(city)
    for fact in await store.shared_facts([PARAMETER_CHANGED], city):
        if fact.payload["name"] in parameters.values:
            # Filed under its `effective_on`, which the event's schema requires (streams/intake.py).
            assert fact.on_date is not None, "a stored parameter change without its effective date"
            parameters = parameters.with_change(fact.payload["name"], fact.payload["value"], fact.on_date)
    return parameters
