"""K18 employment_service_subsidy (就业创业服务补助, §20): one case per agency and year. The
services the agency delivers are kept; `service_subsidy.confirm_days` after each quarter's end a
timer settles the quarter: the persons placed in it are looked up in the store for an employment
within the window (contracts and registrations travel on other topics, for months), and the
quarter's subsidy is owed, within the yearly cap. The case closes `settled` after the fourth."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ServiceDelivered
    from policy import service_subsidy as k18
    from policy.calendar import business_date, quarter_of
    from policy.corrections import Owed
    from workflows._states import ServiceSubsidyState
    from workflows.case_base import CaseWorkflow

KIND = "employment_service_subsidy"


@workflow.defn(name=KIND)
class EmploymentServiceSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    State = ServiceSubsidyState
    st: ServiceSubsidyState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        first = ServiceDelivered.model_validate(opening.data)
        self.st.agency_id = first.agency_id
        self.st.year = first.on.year
        self.subject = k18.payee(first.agency_id)
        self.keys = [self.subject]
        self.city = first.city
        self.opened_on = first.on
        await self.load_context(self.city)
        await self.record("opened", on=first.on)
        await self.apply(opening)
        if self.today() > first.on:
            await self.gather_burst()

    async def apply(self, ev: CaseEvent) -> None:
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if ev.type != "service.delivered":
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)
            return
        s = ServiceDelivered.model_validate(ev.data)
        if s.on.year != self.st.year:
            self.note(s.on, f"a service of {s.on.year}: not this year's", event=ev.key)
            return
        self.st.services.append(k18.Service(on=s.on, service=s.service, person_id=s.person_id, enterprise_id=s.enterprise_id))
        whom = s.person_id or s.enterprise_id
        late = quarter_of(s.on) in self.st.settled
        if late:
            self.st.cause = ev.key
        self.note(s.on, f"{s.service} for {whom}" + (" (reported after its quarter was settled)" if late else ""), event=ev.key)

    # -- settling quarters -------------------------------------------------------------------
    def unsettled(self) -> list[str]:
        return [q for q in k18.quarters(self.st.year) if q not in self.st.settled]

    def deadline(self) -> date | None:
        if self.params is None or not self.unsettled():
            return None
        return k18.settlement_day(self.unsettled()[0], self.params)

    def owed(self, today: date) -> list[Owed] | None:
        if self.params is None:
            return None
        return k18.owed(self.st.agency_id, self.st.year, self.st.settled, self.st.services, self.st.employments, self.params)

    async def settle(self, today: date) -> None:
        """Settle every quarter whose day has come (reading the placed persons' employments then),
        reconcile, and close after the fourth."""
        assert self.params is not None
        for quarter in self.unsettled():
            if k18.settlement_day(quarter, self.params) > today:
                break
            await self.read_employments(quarter)
            self.st.settled.append(quarter)
        await self.reconcile_owed(today, self.st.cause)
        if not self.unsettled():
            last = k18.quarters(self.st.year)[-1]
            await self.close("settled", k18.settlement_day(last, self.params), "the fourth quarter is settled")

    async def read_employments(self, quarter: str) -> None:
        placed = sorted({s.person_id for s in self.st.services
                         if s.service == k18.JOB_PLACEMENT and s.person_id is not None and quarter_of(s.on) == quarter})
        if not placed:
            return
        facts = await self.load_facts([f"person/{p}" for p in placed], sorted(k18.CONFIRMING_FACTS))
        known = set(self.st.employments)
        for f in facts:
            person = f.payload.get("person_id")
            on = f.payload.get(k18.CONFIRMING_FACTS[f.type])
            if isinstance(person, str) and isinstance(on, str):
                e = k18.Employment(person_id=person, on=date.fromisoformat(on))
                if e not in known:
                    known.add(e)
                    self.st.employments.append(e)

    # -- views -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        return {
            "agency": self.subject,
            "year": self.st.year,
            "services": len(self.st.services),
            "settled": list(self.st.settled),
            "paid_this_year": sum(r.amount if r.entry != "overpayment" else -r.amount for r in self.ledger
                                  if r.entry in ("payment", "arrears", "overpayment")),
        }
