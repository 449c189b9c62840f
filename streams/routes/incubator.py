"""Routes of K16 incubator_subsidy (创业孵化载体补贴, §12): one case per incubator and year."""

from __future__ import annotations

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent, city_of_source
from policy import incubator
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, StartCase

KIND = kinds.INCUBATOR_SUBSIDY
HOLDS_SHARED_FACTS = True  # a lift date that moves changes the rent relief owed
# The accreditation is a stored fact the case reads (its city; the right to apply to the province).
FACT_TYPES = ("incubator.accredited",)


def year_case(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """A report, or a provincial application, reaches (or opens) the incubator's case of its year."""
    if event.type == "application.submitted" and event.data["program"] != incubator.PROVINCIAL_PROGRAM:
        return [Ignore(f"application for {event.data['program']}: not a provincial incubator application")]
    incubator_id, year = incubator.incubator_and_year(event.type, event.data)
    return [StartCase(kind=KIND, case_id=kinds.incubator_case_id(incubator_id, year), city=city_of_source(event.source),
                      keys=[incubator.payee(incubator_id)])]


ROUTES: dict[str, Handler] = {
    "incubator.expenses_reported": year_case,
    "incubator.rent_relief_reported": year_case,
    "application.submitted": year_case,
}
