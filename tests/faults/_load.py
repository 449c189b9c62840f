"""Bounded loads for the fault tests, every event recorded by (source, id) before it is sent,
with the payments the policy expects for them (POLICY.md K1, §14; K2 for the corrections).

The load is mostly K1 internships because their whole effect follows from two events and today's date:
an agreement signed `MONTHS_AGO` months ago for `AGREED_MONTHS` months and the internship ended
today, so the case pays its completed months at once (no timers to wait for) and closes `ended`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from contracts import kinds
from policy import internship, unemployment
from policy.calendar import add_months
from policy.monthly_schedule import month_start
from policy.pack import PolicyPack
from tests.e2e.helpers import Person

CITY = "2101"
MONTHS_AGO = 8
AGREED_MONTHS = 12
CLAIM_MONTHS_AGO = 4
INSURED_MONTHS = 30
RETIREMENT = date(2045, 1, 1)


@dataclass
class Load:
    """What a test sends and what it must lead to.

    good: every valid event by (source, id) → its bytes; it must be applied (or rejected by
    routing with a reason) exactly once. poison: label → bytes of a record that must end in the
    dead letters with a reason. payments: case id → the (period, amount in fen) the policy
    expects (original rows). corrections: case id → the (period, entry, amount) of every
    correction row it expects, none if absent. worth: case id → what the facts give per period
    (original + corrections), checked where given. statuses: case id → the status the case must
    close with.
    """

    good: dict[tuple[str, str], bytes] = field(default_factory=dict)
    poison: dict[str, bytes] = field(default_factory=dict)
    payments: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    corrections: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    worth: dict[str, dict[str, int]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    lines: list[bytes] = field(default_factory=list)  # what is sent, in order (duplicates too)
    # Case-id prefix the ledger and read-model comparisons are limited to, when the events also
    # open cases of other kinds the test does not judge (a registration opens a follow-up case).
    scope: str = ""

    def add(self, raw: bytes) -> bytes:
        doc = json.loads(raw)
        self.good[(doc["source"], doc["id"])] = raw
        self.lines.append(raw)
        return raw

    def add_poison(self, label: str, raw: bytes) -> bytes:
        self.poison[label] = raw
        self.lines.append(raw)
        return raw


class Internship(Person):
    """One person's K1 internship in a test (ids unique to the test by `tag`)."""

    def __init__(self, tag: str, n: int, pack: PolicyPack, today: date | None = None):
        super().__init__(f"F{tag}{n:05d}", f"es/{CITY}-faults", today)
        self.unit = f"U{tag}{n:05d}"
        self.starts_on = add_months(self.today, -MONTHS_AGO)
        params = pack.parameters(CITY)
        self.cohort = params.get("internship.cohorts", self.starts_on)[0]
        self.monthly = params.get("internship.monthly_subsidy", self.starts_on)
        self.case_id = kinds.internship_case_id(self.id, self.unit, self.starts_on)

    def signed(self) -> bytes:
        return self.event("internship.agreement_signed", self.starts_on, {
            "person_id": self.id, "unit_id": self.unit, "city": CITY, "starts_on": self.starts_on.isoformat(),
            "months": AGREED_MONTHS, "cohort": self.cohort,
        })

    def interrupted(self, on: date) -> bytes:
        return self.event("internship.interrupted", on, {
            "person_id": self.id, "unit_id": self.unit, "on": on.isoformat(), "reason": "other"})

    def resumed(self, on: date) -> bytes:
        return self.event("internship.resumed", on, {"person_id": self.id, "unit_id": self.unit, "on": on.isoformat()})

    def ended(self) -> bytes:
        return self.event("internship.ended", self.today, {
            "person_id": self.id, "unit_id": self.unit, "on": self.today.isoformat(), "reason": "quit"})

    def expected_payments(self) -> list[tuple[str, int]]:
        """§14: the unit is paid the monthly subsidy for each completed month (no pauses)."""
        months = internship.completed_months(self.starts_on, AGREED_MONTHS, [], self.today)
        return [(f"month-{m}", self.monthly) for m in range(1, months + 1)]


def internships(tag: str, persons: int, pack: PolicyPack, load: Load | None = None) -> Load:
    """`persons` internships signed and ended, their expectations recorded in `load`."""
    load = load or Load()
    for n in range(persons):
        person = Internship(tag, n, pack)
        load.add(person.signed())
        load.add(person.ended())
        load.payments[person.case_id] = person.expected_payments()
        load.statuses[person.case_id] = "ended"
    return load


class Claim(Person):
    """One person's K2 unemployment-insurance claim filed `CLAIM_MONTHS_AGO` months ago, whose
    benefit months are paid at once when the case opens, and a re-employment dated in its second
    benefit month reported afterwards: the months after it were paid and are corrected by an
    overpayment each (POLICY.md K2 and part 2, "What a case owes, and corrections")."""

    def __init__(self, tag: str, n: int, pack: PolicyPack, today: date | None = None):
        super().__init__(f"R{tag}{n:05d}", f"si/{CITY}-faults", today)
        self.claim_on = add_months(self.today, -CLAIM_MONTHS_AGO)
        self.params = pack.parameters(CITY)
        self.reemployed_on = month_start(self.claim_on, 2) + timedelta(days=3)
        self.entitlement = unemployment.entitlement_months(INSURED_MONTHS, 0, self.params, self.claim_on)
        self.case_id = kinds.unemployment_insurance_case_id(self.id, self.claim_on)

    def filed(self) -> bytes:
        return self.event("ui.claim.filed", self.claim_on, {
            "person_id": self.id, "city": CITY, "claim_on": self.claim_on.isoformat(),
            "insured_months": INSURED_MONTHS, "involuntary": True, "retirement_date": RETIREMENT.isoformat()})

    def reemployed(self) -> bytes:
        """Reported today, dated in the second benefit month."""
        return self.event("employment.registered", self.today, {
            "person_id": self.id, "city": CITY, "on": self.reemployed_on.isoformat(), "kind": "employee",
            "employer_id": f"E{self.id}"})

    def months(self, reemployed_on: date | None) -> list[int]:
        return unemployment.months_due(self.today, self.claim_on, RETIREMENT, reemployed_on, self.entitlement, False)

    def benefit(self, n: int) -> int:
        return unemployment.monthly_benefit(month_start(self.claim_on, n), self.params)

    def expected_payments(self) -> list[tuple[str, int]]:
        """Every benefit month started by today, paid before the re-employment was known."""
        return [(f"month-{n}", self.benefit(n)) for n in self.months(None)]

    def expected_corrections(self) -> list[tuple[str, str, int]]:
        """(period, entry, amount): the months that started after the re-employment, overpaid."""
        owed = set(self.months(self.reemployed_on))
        return [(f"month-{n}", "overpayment", self.benefit(n)) for n in self.months(None) if n not in owed]

    def expected_worth(self) -> dict[str, int]:
        """What the facts give per period: the benefit of the months up to the re-employment."""
        return {f"month-{n}": self.benefit(n) for n in self.months(self.reemployed_on)}


def claims(tag: str, persons: int, pack: PolicyPack) -> tuple[Load, list[bytes], list[bytes]]:
    """`persons` K2 claims and their re-employments: the load with every expectation, and the
    two halves to send (claims first; re-employments once the claims' months are paid)."""
    load = Load(scope="ui/")
    filed, reemployed = [], []
    for n in range(persons):
        claim = Claim(tag, n, pack)
        filed.append(load.add(claim.filed()))
        reemployed.append(load.add(claim.reemployed()))
        load.payments[claim.case_id] = claim.expected_payments()
        load.corrections[claim.case_id] = claim.expected_corrections()
        load.worth[claim.case_id] = claim.expected_worth()
        load.statuses[claim.case_id] = "reemployed"
    load.lines = filed + reemployed
    return load, filed, reemployed
