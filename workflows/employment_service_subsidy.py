"""K18 employment_service_subsidy (就业创业服务补助, §20): one case per agency and year. The
services the agency delivers are kept; `service_subsidy.confirm_days` after each quarter's end a
timer settles the quarter: the persons placed in it are looked up in the store for an employment
within the window (contracts and registrations travel on other topics, for months), and the
quarter's subsidy is owed, within the yearly cap. The case closes `settled` after the fourth.

A case opened under `k18-late-jobs` is found by each person it placed too, so a job dated within
the confirmation window that arrives after the quarter was settled (the topics are ordered only
within themselves) still confirms the placement: the quarter owes more, as arrears, while the
case is open or listens for corrections; a placement reported after its quarter was settled
reads the person's jobs then."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ServiceDelivered
    from policy import service_subsidy
    from policy.calendar import business_date, quarter_of
    from policy.corrections import Owed
    from workflows._states import ServiceSubsidyState
    from workflows.case_base import CaseWorkflow

KIND = kinds.EMPLOYMENT_SERVICE_SUBSIDY
# Cases opened from here on take the placed persons' jobs as they arrive (routed by the person);
# histories recorded before read them at settlement only.
LATE_JOBS = "k18-late-jobs"


@workflow.defn(name=KIND)
class EmploymentServiceSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("service_subsidy.",)  # its parameters (case_base `context_scope`)
    State = ServiceSubsidyState
    st: ServiceSubsidyState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        first = ServiceDelivered.model_validate(opening.data)
        self.st.agency_id = first.agency_id
        self.st.year = first.on.year
        self.subject = service_subsidy.payee(first.agency_id)
        self.keys = [self.subject]
        self.city = first.city
        self.opened_on = first.on
        await self.load_context(self.city)
        self.st.late_jobs = workflow.patched(LATE_JOBS)
        placed = self.placed_key(first.service, first.person_id) if self.st.late_jobs else None
        if placed is not None:
            self.keys.append(placed)
        await self.record("opened", on=first.on)
        await self.apply(opening)
        if self.today() > first.on:
            await self.gather_burst()

    async def apply(self, ev: CaseEvent) -> None:
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if self.st.late_jobs and ev.type in service_subsidy.CONFIRMING_FACTS:
            self.take_job(ev)
            return
        if ev.type != "service.delivered":
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)
            return
        s = ServiceDelivered.model_validate(ev.data)
        if s.on.year != self.st.year:
            self.note(s.on, f"a service of {s.on.year}: not this year's", event=ev.key)
            return
        self.st.services.append(service_subsidy.Service(on=s.on, service=s.service, person_id=s.person_id, enterprise_id=s.enterprise_id))
        whom = s.person_id or s.enterprise_id
        late = quarter_of(s.on) in self.st.settled
        if late:
            self.st.cause = ev.key
        self.note(s.on, f"{s.service} for {whom}" + (" (reported after its quarter was settled)" if late else ""), event=ev.key)
        placed = self.placed_key(s.service, s.person_id) if self.st.late_jobs else None
        if placed is not None and placed not in self.keys:
            # The person's jobs reach the case from now on (streams/routes/service_subsidy.py).
            self.keys = [*self.keys, placed]
            await self.record("opened", on=s.on)
        if placed is not None and late:
            # Its quarter's reading of the jobs is over: the ones already on file count now.
            assert s.person_id is not None
            await self.read_employments([s.person_id])

    def placed_key(self, service: str, person_id: str | None) -> str | None:
        """The key a placed person's jobs are routed to the case by (None: not a placement)."""
        return f"person/{person_id}" if service == service_subsidy.JOB_PLACEMENT and person_id is not None else None

    def take_job(self, ev: CaseEvent) -> None:
        """A job of a person the agency placed: it confirms the placements it falls within
        confirm_days of (`service_subsidy.placement_confirmed`), also of a quarter already settled, which
        then owes more (arrears)."""
        person, on = service_subsidy.employment_of(ev.type, ev.data)
        received = business_date(ev.time)
        placements = [s for s in self.st.services if s.service == service_subsidy.JOB_PLACEMENT and s.person_id == person]
        if person is None or on is None or not placements:
            self.note(received, f"{ev.type}: not a person this agency placed", event=ev.key)
            return
        job = service_subsidy.Employment(person_id=person, on=on)
        if job in self.st.employments:
            self.note(received, f"{ev.type} of {person} on {on}: already known", event=ev.key)
            return
        self.st.employments.append(job)
        settled = sorted({quarter_of(s.on) for s in placements} & set(self.st.settled))
        if settled:
            self.st.cause = ev.key
        self.note(received, f"{person} employed on {on}" + (f" (after {', '.join(settled)} was settled)" if settled else ""),
                  event=ev.key)

    # -- settling quarters -------------------------------------------------------------------
    def unsettled(self) -> list[str]:
        return [q for q in service_subsidy.quarters(self.st.year) if q not in self.st.settled]

    def deadline(self) -> date | None:
        if self.params is None or not self.unsettled():
            return None
        return service_subsidy.settlement_day(self.unsettled()[0], self.params)

    def owed(self, today: date) -> list[Owed] | None:
        if self.params is None:
            return None
        return service_subsidy.owed(self.st.agency_id, self.st.year, self.st.settled, self.st.services, self.st.employments, self.params)

    async def settle(self, today: date) -> None:
        """Settle every quarter whose day has come (reading the placed persons' employments then),
        reconcile, and close after the fourth."""
        assert self.params is not None
        for quarter in self.unsettled():
            if service_subsidy.settlement_day(quarter, self.params) > today:
                break
            await self.read_employments(self.placed_in(quarter))
            self.st.settled.append(quarter)
        await self.reconcile_owed(today, self.st.cause)
        if not self.unsettled():
            last = service_subsidy.quarters(self.st.year)[-1]
            await self.close("settled", service_subsidy.settlement_day(last, self.params), "the fourth quarter is settled")

    def placed_in(self, quarter: str) -> list[str]:
        """The persons placed in `quarter`, sorted."""
        return sorted({s.person_id for s in self.st.services
                       if s.service == service_subsidy.JOB_PLACEMENT and s.person_id is not None and quarter_of(s.on) == quarter})

    async def read_employments(self, placed: list[str]) -> None:
        """The jobs of the persons `placed` on file in the store, kept once each."""
        if not placed:
            return
        facts = await self.load_facts([f"person/{p}" for p in placed], sorted(service_subsidy.CONFIRMING_FACTS))
        known = set(self.st.employments)
        for f in facts:
            person, on = service_subsidy.employment_of(f.type, f.payload)
            if person is not None and on is not None:
                e = service_subsidy.Employment(person_id=person, on=on)
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
