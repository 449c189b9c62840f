"""The activities every case kind uses: read its context, record its state, pay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activities.forecast_desk import check_budgeted
from activities.parameters_in_force import parameters_in_force
from activities.store import Store, alert_event, lifecycle_event
from contracts.cases import (
    AlertRecord,
    CappedPaymentRequest,
    CaseContext,
    CaseRecord,
    ContextRequest,
    Epidemic,
    FactsRequest,
    FactsResult,
    HistoryRequest,
    HistoryResult,
    PaymentRequest,
    PaymentResult,
    PriceLinkageFact,
    RefusalRecord,
    ScheduleRecord,
    SlotRequest,
    SlotResult,
    TaskRecord,
)
from observability.metrics import count_payment
from policy.calendar import business_date
from policy.pack import PolicyPack

EPIDEMIC_TYPES = ["policy.epidemic.declared", "policy.epidemic.lifted"]
PRICE_LINKAGE_TYPE = "policy.price_linkage.triggered"


class CaseActivities:
    """Activities with their store and policy pack injected by the worker."""

    def __init__(self, store: Store, pack: PolicyPack):
        self.store = store
        self.pack = pack

    @activity.defn(name="load_context")
    async def load_context(self, request: ContextRequest) -> CaseContext:
        """Parameters for the case's city (pack defaults, city overrides, stored changes), only
        those of the kind's scope when the request names one, and the shared facts received so
        far, so a case that starts late misses nothing."""
        parameters = await parameters_in_force(self.store, self.pack, request.city)
        if request.scope is not None:
            parameters = parameters.within(request.scope)
        epidemic = Epidemic()
        # One query for both: the epidemic dates and the price linkages triggered so far.
        facts = await self.store.shared_facts(EPIDEMIC_TYPES + [PRICE_LINKAGE_TYPE], request.city)
        # City facts override province facts; later facts (by business time) override earlier.
        for fact in sorted(
            (f for f in facts if f.type in EPIDEMIC_TYPES),
            key=lambda f: (f.scope != "province", f.event_time),
        ):
            field = "declared" if fact.type.endswith("declared") else "lifted"
            epidemic = epidemic.model_copy(update={f"{field}_on": fact.on_date, f"{field}_at": fact.event_time})
        linkages = [
            PriceLinkageFact(
                city=f.payload["city"],
                month=f.payload["month"],
                amount=f.payload["amount"],
                triggered_on=business_date(f.event_time),
            )
            for f in facts
            if f.type == PRICE_LINKAGE_TYPE and f.payload.get("city") == request.city
        ]
        return CaseContext(parameters=parameters, epidemic=epidemic, price_linkages=linkages)

    @activity.defn(name="record_case")
    async def record_case(self, record: CaseRecord) -> None:
        data = {
            "kind": record.kind,
            "status": record.status,
            "city": record.city,
            "on": record.on.isoformat() if record.on else None,
            "next_deadline": record.next_deadline.isoformat() if record.next_deadline else None,
        }
        await self.store.record_case(record, lifecycle_event(f"{record.case_id}:v{record.version}", record.change, record.case_id, data))

    @activity.defn(name="record_schedule")
    async def record_schedule(self, record: ScheduleRecord) -> None:
        """The case's schedule replaces its earlier one; each budgeted fund it pays from is judged
        for a `fund_shortfall` (activities/forecast_desk.py says why here; a schedule that shrank
        or went can only end one)."""
        await self.store.record_schedule(record)
        await check_budgeted(self.store, record.city, {line.fund for line in record.lines}, record.on)

    @activity.defn(name="end_listening")
    async def end_listening(self, case_id: str) -> None:
        """A closed case's window for late facts ended: its keys route nothing more to it."""
        await self.store.end_listening(case_id)

    @activity.defn(name="quarantine_refused")
    async def quarantine_refused(self, refusal: RefusalRecord) -> None:
        """An event the case refused: quarantined on it, for its page and a supervisor's re-drive."""
        await self.store.quarantine_refused(refusal)

    @activity.defn(name="pay")
    async def pay(self, payment: PaymentRequest) -> PaymentResult:
        data = payment.model_dump(mode="json")
        inserted = await self.store.pay(payment, lifecycle_event(payment.event_id, "payment", payment.case_id, data))
        if inserted:  # a retried activity finds its row and counts nothing
            count_payment(payment.kind, payment.fund, payment.amount)
        return PaymentResult(inserted=inserted)

    @activity.defn(name="pay_capped")
    async def pay_capped(self, request: CappedPaymentRequest) -> PaymentResult:
        """Pay under a limit shared by every case of the payee (`Store.pay_capped`)."""
        payment = request.payment
        data = payment.model_dump(mode="json")
        inserted, amount = await self.store.pay_capped(payment, request.cap, lifecycle_event(payment.event_id, "payment", payment.case_id, data))
        if inserted:
            count_payment(payment.kind, payment.fund, amount)
        return PaymentResult(inserted=inserted, amount=amount, capped=amount < payment.amount)

    @activity.defn(name="take_slots")
    async def take_slots(self, request: SlotRequest) -> SlotResult:
        """A slot of each of the limits shared by every case, all or none (`Store.take_slots`)."""
        taken, held = await self.store.take_slots(request.holder, request.limits)
        return SlotResult(taken=taken, held=held)

    @activity.defn(name="record_task")
    async def record_task(self, task: TaskRecord) -> None:
        change = "task_raised" if task.state == "open" else f"task_{task.state}"
        data = task.model_dump(mode="json")
        await self.store.record_task(task, lifecycle_event(f"{task.task_id}:{task.state}", change, task.case_id, data))

    @activity.defn(name="load_facts")
    async def load_facts(self, request: FactsRequest) -> FactsResult:
        """Stored facts about the case's subjects (registrations, households, referrals ...)."""
        return FactsResult(facts=await self.store.subject_facts(request.keys, request.types))

    @activity.defn(name="case_history")
    async def case_history(self, request: HistoryRequest) -> HistoryResult:
        """Earlier cases of the same subject, oldest first."""
        return HistoryResult(cases=await self.store.past_cases(request.subject, request.kinds, request.exclude_case_id))

    @activity.defn(name="raise_alert")
    async def raise_alert(self, alert: AlertRecord) -> bool:
        """An alert for the city (stored once per alert_id, published on `alerts`)."""
        return await self.store.raise_alert(alert, alert_event(alert))

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for the worker."""
        return [self.load_context, self.record_case, self.pay, self.pay_capped, self.record_task, self.load_facts, self.case_history,
                self.raise_alert, self.take_slots, self.end_listening, self.record_schedule,
                self.quarantine_refused]
