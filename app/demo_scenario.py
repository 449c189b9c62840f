"""The demo scenario: the whole province in 2020, every case kind.

It is made of
- generated internships (K1) across Liaoning's cities, with epidemic and other interruptions,
  hires on both sides of the 1/3 rule, early ends and an ineligible cohort;
- every committed scenario of `tests/scenarios/` (one or more per kind, hand-derived and checked by
  the workflow tests), each under an id prefix of its own so that two scenarios never share a
  person, enterprise, loan or event; this brings K2–K18 with their supervisor tasks
  (`taper_decision`, `extra_placement`, `guarantee_claim`, `provincial_selection`, …), their late
  facts and corrections, and the M1 monitoring alerts;
- ten more incubators applying for the provincial subsidy of 2020 (eleven with the committed one),
  so the eleventh approval in the task inbox is refused by the §12 slot limit;
- an enterprise whose insured headcount drops by half from one month to the next, for monitoring
  M2 `headcount_drop`;
- the province's own facts of 2020, each taken from the committed scenario that derived its
  results with it (PROVINCE_FACTS): the epidemic declared and lifted, a price linkage, and a
  parameter change with a past effective date (its cases' backdated corrections);
- three bad records and a duplicate;
- the caseworkers' monthly follow-up contacts (§20) with every registered unemployed person of
  the committed scenarios, each month's contacts reported at the end of its calendar month, while
  the registration lasts (`followup_contacts`); the K9 scenario (FOLLOWUP_STORY) keeps its own
  contacts and the months it misses, so the escalations left in the task inbox each have a story.

The demo's cases run on a business clock that starts on `BUSINESS_DATE` (JIUYE_BUSINESS_DATE):
on today's real date a case of 2020 would find every deadline of 2020 long past, its tasks
expired and its follow-ups overdue for years. Records dated after it (a few late contributions of
the committed scenarios) have not happened yet on that clock and are left out.

The committed scenarios' other province-wide facts (`policy.*`) are left out: the scenarios'
own changes contradict each other (three different liftings of the epidemic). The ones the demo
keeps are the same in every run, so a rerun on the same stack, whose new cases read the facts of
the runs before, finds nothing that contradicts them; but they read them from their start, so
the first run on a stack and the ones after it differ (README, "The demo"). Deterministic for a seed; every id carries
the run's tag, so reruns open new cases.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

from contracts.events import SUBJECT_ID_KINDS, InvalidEvent, parse_event
from policy.calendar import add_months

CITIES = [f"21{n:02d}" for n in range(1, 15)]
PATTERNS = ("complete", "epidemic_pause", "other_pause", "hired_late", "hired_early", "ended_early")
SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "scenarios"
PROVINCE_WIDE = "policy."
# The demo's province-wide facts: (committed scenario, type), the scenario's first record of the
# type. The epidemic of k16 (declared and lifted once), the first price linkage of K2's scenario,
# and K1's backdated raise of 2102's internship subsidy (announced after its effective date).
PROVINCE_FACTS: tuple[tuple[str, str], ...] = (
    ("k16_incubators", "policy.epidemic.declared"),
    ("k16_incubators", "policy.epidemic.lifted"),
    ("k2_price_linkage", "policy.price_linkage.triggered"),
    ("k1_corrections", "policy.parameter.changed"),
)
# The data fields that hold an id of a person, enterprise, agency, bank, incubator, household,
# loan, enrolment, post or provider (EVENTS.md): what a scenario's prefix is put in front of.
ID_FIELDS = frozenset({
    "person_id", "person_ids", "employer_id", "enterprise_id", "unit_id", "applicant", "borrower",
    "bank_id", "loan_id", "agency_id", "referred_by_agency", "incubator_id", "enrolment_id",
    "household_id", "post_id", "provider_id",
})
# 2020 is over and its measures have paid; 2020's provincial incubator selection (open until
# incubator.settle_months after the year) and the guarantee claims still wait for a supervisor.
BUSINESS_DATE = date(2021, 4, 1)
EXTRA_INCUBATORS = 10
# The committed scenario whose follow-ups are the story (contacts and missed months): the demo
# adds no contacts to its people.
FOLLOWUP_STORY = "k9_followup"
# A month's contact is made this many days into the registered month.
CONTACT_DAY = 3
ENDS_REGISTRATION = ("unemployment.deregistered", "employment.registered", "unemployment.registered")
# M2: twice monitoring.drop_min's persons in M−1, half of them in M, one in M+1 (which triggers
# the comparison of M−1 and M).
HEADCOUNT_BEFORE, HEADCOUNT_AFTER = 48, 24


@dataclass
class DemoScenario:
    tag: str
    lines: list[str] = field(default_factory=list)
    internships: int = 0
    scenarios: list[str] = field(default_factory=list)  # the committed scenarios included
    province_facts: list[str] = field(default_factory=list)  # the types of PROVINCE_FACTS, in order
    expected_dead_letters: int = 0  # records parse_event refuses, as the intake will
    duplicates: int = 0
    followup_contacts: int = 0  # the caseworkers' monthly contacts the demo adds (followup_contacts)
    headcount_enterprise: str = ""
    headcount_before: int = HEADCOUNT_BEFORE
    headcount_after: int = HEADCOUNT_AFTER

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def event_types(self) -> dict[str, str]:
        """source#id → type, for every record that parses (what a correction's cause names)."""
        out = {}
        for line in self.lines:
            try:
                event = parse_event(line.encode())
            except InvalidEvent:
                continue
            out[event.key] = event.type
        return out

    def valid_events(self) -> int:
        """Distinct (source, id) among the records that parse: the inbox rows the run makes."""
        return len({key for key in map(event_key, self.lines) if key is not None})


def event_key(line: str) -> tuple[str, str] | None:
    """(source, id) of a record the intake accepts; None for one it dead-letters."""
    try:
        event = parse_event(line.encode())
    except InvalidEvent:
        return None
    return event.source, event.id


def business_day(line: str) -> str:
    """The record's date (its `time`), the order a story's records go out in; unparseable
    records sort with the first day."""
    try:
        return str(json.loads(line)["time"])[:10]
    except (ValueError, KeyError, TypeError):
        return ""


# The province's facts that the scenario means to arrive late: the backdated parameter change
# (announced after its effective date) goes out after the cases paid, for its corrections.
LATE_PROVINCE_FACTS = frozenset({"policy.parameter.changed"})
# A record reported more than this many days after the date it speaks of (its `on`, a contract's
# `signed_on`, a contribution's month) is one of the committed scenarios' late facts: their
# stories send it after their cases decided, so that it corrects them. A caseworker's contact,
# reported at the end of its month, is not late.
LATE_AFTER_DAYS = 30
OWN_DATE_FIELDS = ("on", "signed_on", "registered_on", "starts_on")
# The types that open a case of their subject: a second one in a story opens a second case.
OPENINGS = frozenset({
    "internship.agreement_signed", "ui.claim.filed", "unemployment.registered", "welfare_post.placed",
    "application.submitted", "training.enrolled", "loan.granted", "layoff.plan_filed", "dibao.granted",
})


def reported_late(event: dict[str, Any]) -> bool:
    """Whether the record reached the office more than LATE_AFTER_DAYS after its own date."""
    data = event.get("data")
    if not isinstance(data, dict):
        return False
    own = next((data[f] for f in OWN_DATE_FIELDS if isinstance(data.get(f), str)), None)
    if own is None and event.get("type") == "contribution.paid" and isinstance(data.get("month"), str):
        # A month's contribution is paid in the month or the next: late from a month after it.
        own = _month_end(date.fromisoformat(f"{data['month']}-01")).isoformat()
    try:
        return own is not None and (date.fromisoformat(str(event["time"])[:10]) - date.fromisoformat(own[:10])).days > LATE_AFTER_DAYS
    except (KeyError, ValueError):
        return False


@dataclass
class Story:
    """One story's records as the demo sends them, in `rounds`: each round's business days back
    to back (each once intake took the one before), each round after the story's cases decided on
    the one before. A subject's record goes a round after the subject's record before it when it
    is a late fact (`reported_late`: it comes after the payments it corrects) or opens a second
    case of its kind (OPENINGS: a new claim after the first one ended, a second placement), which
    the first case, still gathering its burst, would refuse; its subject's later records follow."""

    name: str
    rounds: list[list[list[str]]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [line for days in self.rounds for day in days for line in day]


@dataclass
class Plan:
    """The order the demo sends a scenario in: `first` (the province's facts, stored before any
    case opens, and the records the intake refuses), then the `stories` (each on its own, any
    number at once), then `last` (LATE_PROVINCE_FACTS, once every case decided)."""

    first: list[str]
    stories: list[Story]
    last: list[str]


def story_of(event: dict[str, Any], tag: str) -> str:
    """What a record's story is: its committed scenario (the prefix of its id: a scenario's
    subjects depend on each other, an application on its contracts); for the demo's own
    records, its subject (a contribution: its employer, whose registration comes first)."""
    prefix = str(event.get("id", "")).split("-", 1)[0]
    if prefix != tag:
        return prefix
    data = event.get("data")
    if event.get("type") == "contribution.paid" and isinstance(data, dict) and isinstance(data.get("employer_id"), str):
        return f"enterprise/{data['employer_id']}"
    return str(event.get("subject", ""))


def emission_plan(scenario: DemoScenario) -> Plan:
    """The scenario's records as `Plan` orders them, each once (the duplicate with its original)."""
    first: list[str] = []
    last: list[str] = []
    stories: dict[str, list[str]] = {}
    for line in sorted(scenario.lines, key=business_day):
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or event_key(line) is None:
            first.append(line)
        elif str(event.get("type", "")).startswith(PROVINCE_WIDE):
            (last if event["type"] in LATE_PROVINCE_FACTS else first).append(line)
        else:
            stories.setdefault(story_of(event, scenario.tag), []).append(line)
    plan = Plan(first, [], last)
    for name, lines in stories.items():
        round_of: dict[str, int] = {}
        opened: dict[tuple[str, int], set[str]] = defaultdict(set)
        rounds: dict[int, list[str]] = defaultdict(list)
        sent: set[tuple[str, str] | None] = set()
        for line in lines:
            event = json.loads(line)
            subject, type_ = str(event.get("subject", "")), str(event.get("type", ""))
            n = round_of.get(subject, 0)
            # A duplicate (the same source and id) goes with its original, for the intake to drop.
            again = event_key(line) in sent
            if subject in round_of and not again and (reported_late(event) or type_ in opened[(subject, n)]):
                n += 1
            sent.add(event_key(line))
            round_of[subject] = n
            if type_ in OPENINGS:
                opened[(subject, n)].add(type_)
            rounds[n].append(line)
        plan.stories.append(Story(name, [_by_day(rounds[n]) for n in sorted(rounds)]))
    return plan


def _by_day(lines: list[str]) -> list[list[str]]:
    return [list(day) for _, day in groupby(lines, key=business_day)]


def _event(tag: str, n: int, city: str, type_: str, subject: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"{tag}-{n:05d}",
        "source": f"es/{city}",
        "type": type_,
        "subject": subject,
        "time": f"{on.isoformat()}T09:00:00+08:00",
        "datacontenttype": "application/json",
        "data": data,
    }


def _prefixed(value: Any, prefix: str) -> Any:
    if isinstance(value, list):
        return [_prefixed(v, prefix) for v in value]
    if not isinstance(value, str):
        return value
    kind, sep, rest = value.partition("/")
    if sep and kind in SUBJECT_ID_KINDS:
        return f"{kind}/{prefix}{rest}"
    return prefix + value


def _prefix_data(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {k: _prefixed(v, prefix) if k in ID_FIELDS else _prefix_data(v, prefix) for k, v in value.items()}
    if isinstance(value, list):
        return [_prefix_data(v, prefix) for v in value]
    return value


def retag(event: dict[str, Any], prefix: str) -> dict[str, Any]:
    """`event` with `prefix` in front of its id, its subject's id (`person/P1`; not `city/2101`)
    and every id in its data."""
    out = dict(event)
    out["id"] = f"{prefix}-{event['id']}"
    subject = event.get("subject")
    if isinstance(subject, str) and subject.partition("/")[0] in SUBJECT_ID_KINDS:
        out["subject"] = _prefixed(subject, prefix)
    if "data" in event:
        out["data"] = _prefix_data(event["data"], prefix)
    return out


def committed_scenarios(folder: Path = SCENARIOS) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


def _committed(path: Path, prefix: str) -> Iterator[str]:
    """The scenario's records under `prefix`, without its province-wide facts and without the
    lines that are not JSON (the demo brings its own bad records, with the tag in them)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict) or str(event.get("type", "")).startswith(PROVINCE_WIDE):
            continue
        if str(event.get("time", ""))[:10] >= BUSINESS_DATE.isoformat():
            continue
        yield json.dumps(retag(event, prefix), ensure_ascii=False)


def _province_facts(tag: str, folder: Path) -> list[dict[str, Any]]:
    """PROVINCE_FACTS under the run's tag (their subjects are cities and the province: no ids)."""
    facts = []
    for stem, type_ in PROVINCE_FACTS:
        events = (json.loads(line) for line in (folder / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines())
        first = next(e for e in events if e.get("type") == type_)
        facts.append(retag(first, f"{tag}F"))
    return facts


def _internships(tag: str, count: int, rng: random.Random, add: Any) -> int:
    for i in range(count):
        city = CITIES[i % len(CITIES)]
        person, unit = f"{tag}P{i:03d}", f"{tag}U{i % 9:02d}"
        subject = f"person/{person}"
        months = rng.randint(3, 12)
        start = date(2020, 1, 2) + timedelta(days=rng.randint(0, 150))
        cohort = 2019 if i % 17 == 16 else rng.choice((2020, 2021))
        ids = {"person_id": person, "unit_id": unit}
        add(city, "internship.agreement_signed", subject, start,
            {**ids, "city": city, "starts_on": start.isoformat(), "months": months, "cohort": cohort})
        pattern = PATTERNS[i % len(PATTERNS)]
        end = add_months(start, months)
        if pattern in ("epidemic_pause", "other_pause"):
            paused = start + timedelta(days=rng.randint(5, 25))
            resumed = paused + timedelta(days=rng.randint(10, 40))
            add(city, "internship.interrupted", subject, paused,
                {**ids, "on": paused.isoformat(), "reason": "epidemic" if pattern == "epidemic_pause" else "other"})
            add(city, "internship.resumed", subject, resumed, {**ids, "on": resumed.isoformat()})
        elif pattern in ("hired_late", "hired_early"):
            # Late: a fifth of the period left (full subsidy); early: two thirds left.
            fraction = 0.8 if pattern == "hired_late" else 0.33
            signed = start + timedelta(days=int((end - start).days * fraction))
            add(city, "contract.signed", subject, signed,
                {"person_id": person, "employer_id": unit, "signed_on": signed.isoformat(),
                 "starts_on": signed.isoformat(), "term_months": 24})
        elif pattern == "ended_early":
            left = start + timedelta(days=rng.randint(40, 80))
            add(city, "internship.ended", subject, left, {**ids, "on": left.isoformat(), "reason": "quit"})
    return count


def _incubators(tag: str, add: Any) -> None:
    """Accredited incubators across the cities, each applying for the provincial subsidy of 2020."""
    for i in range(EXTRA_INCUBATORS):
        city = CITIES[i % len(CITIES)]
        incubator = f"{tag}I{i:02d}"
        accredited, applied = date(2019, 11, 1) + timedelta(days=i), date(2020, 9, 1) + timedelta(days=i)
        add(city, "incubator.accredited", f"incubator/{incubator}", accredited,
            {"incubator_id": incubator, "city": city, "operator": "government", "on": accredited.isoformat()})
        add(city, "application.submitted", f"incubator/{incubator}", applied,
            {"program": "incubator_provincial", "applicant": incubator, "on": applied.isoformat(), "details": {"year": 2020}})


def _headcount_drop(tag: str, add: Any) -> str:
    """Contributions of one enterprise for March, April and May 2020: half its insured persons
    are gone in April."""
    enterprise, city = f"{tag}EM2", "2103"
    add(city, "enterprise.registered", f"enterprise/{enterprise}", date(2019, 6, 1),
        {"enterprise_id": enterprise, "city": city, "industry": "manufacturing", "size": "medium"})
    for month, persons in (("2020-03", HEADCOUNT_BEFORE), ("2020-04", HEADCOUNT_AFTER), ("2020-05", 1)):
        paid = date.fromisoformat(f"{month}-20")
        for n in range(persons):
            person = f"{tag}M2P{n:02d}"
            add(city, "contribution.paid", f"person/{person}", paid,
                {"person_id": person, "month": month, "employer_id": enterprise, "base": 400000,
                 "employer_amount": 64000, "employee_amount": 32000, "insurances": ["pension", "unemployment"]})
    return enterprise


def _month_end(on: date) -> date:
    return add_months(on.replace(day=1), 1) - timedelta(days=1)


def followup_contacts(records: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """§20's monthly contact for every registration among `records` (one person's records in
    time order decide): a contact CONTACT_DAY days into each registered month, reported at the
    end of its calendar month, for the months whose report comes after the registration was
    sent, before the registration ends (deregistered, employed, registered again) and before
    BUSINESS_DATE; none for a month the records already have a contact in. Without them every
    registered month of every K9 case escalates (hundreds of `followup_escalation` tasks)."""
    by_person: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if isinstance(r.get("subject"), str) and str(r["subject"]).startswith("person/"):
            by_person.setdefault(r["subject"], []).append(r)
    contacts: list[dict[str, Any]] = []
    for subject, mine in sorted(by_person.items()):
        mine.sort(key=lambda r: str(r.get("time", "")))
        for i, reg in enumerate(mine):
            if reg.get("type") != "unemployment.registered":
                continue
            data = reg["data"]
            registered_on, sent = date.fromisoformat(data["registered_on"]), date.fromisoformat(str(reg["time"])[:10])
            ends = [date.fromisoformat(str(r["time"])[:10]) for r in mine[i + 1:] if r.get("type") in ENDS_REGISTRATION]
            until = min([*ends, BUSINESS_DATE])
            followed = {r["data"].get("on") for r in mine if r.get("type") == "followup.recorded"}
            n = 1
            while (on := add_months(registered_on, n - 1) + timedelta(days=CONTACT_DAY)) < until:
                reported = _month_end(on)
                month_followed = any(isinstance(f, str) and add_months(registered_on, n - 1) <= date.fromisoformat(f)
                                     < add_months(registered_on, n) for f in followed)
                if sent < reported < until and not month_followed:
                    contacts.append({
                        "specversion": "1.0", "id": f"{tag}-fu-{len(contacts) + 1:05d}", "source": reg["source"],
                        "type": "followup.recorded", "subject": subject, "time": f"{reported.isoformat()}T17:00:00+08:00",
                        "datacontenttype": "application/json",
                        "data": {"person_id": data["person_id"], "on": on.isoformat(), "channel": "phone"},
                    })
                n += 1
    return contacts


def generate(count: int, tag: str, seed: int = 2020, scenarios: list[Path] | None = None) -> DemoScenario:
    rng = random.Random(seed)
    scenario = DemoScenario(tag=tag)
    events: list[dict[str, Any]] = []
    serial = 0

    def add(city: str, type_: str, subject: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
        nonlocal serial
        serial += 1
        ev = _event(tag, serial, city, type_, subject, on, data)
        events.append(ev)
        return ev

    scenario.internships = _internships(tag, count, rng, add)
    _incubators(tag, add)
    scenario.headcount_enterprise = _headcount_drop(tag, add)
    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    for n, path in enumerate(committed_scenarios() if scenarios is None else scenarios):
        scenario.scenarios.append(path.stem)
        committed = list(_committed(path, f"{tag}S{n:02d}"))
        lines.extend(committed)
        if path.stem != FOLLOWUP_STORY:
            contacts = followup_contacts([json.loads(line) for line in committed], f"{tag}S{n:02d}")
            scenario.followup_contacts += len(contacts)
            lines.extend(json.dumps(c, ensure_ascii=False) for c in contacts)

    for fact in _province_facts(tag, SCENARIOS):
        scenario.province_facts.append(fact["type"])
        lines.append(json.dumps(fact, ensure_ascii=False))

    # Three bad records and a duplicate, among the good ones.
    bad_months = _event(tag, 90001, "2101", "internship.agreement_signed", f"person/{tag}X1", date(2020, 3, 2),
                        {"person_id": f"{tag}X1", "unit_id": f"{tag}U00", "city": "2101",
                         "starts_on": "2020-03-02", "months": 15, "cohort": 2020})
    unknown_type = _event(tag, 90002, "2101", "internship.teleported", f"person/{tag}X2", date(2020, 3, 2), {"person_id": f"{tag}X2"})
    lines.insert(len(lines) // 3, json.dumps(bad_months))
    lines.insert(len(lines) // 2, json.dumps(unknown_type))
    lines.insert(2 * len(lines) // 3, f"{{not json at all {tag}")
    lines.append(json.dumps(events[0], ensure_ascii=False))
    scenario.lines = lines
    # What parse_event refuses, and the fifteen-month agreement, which parses but K1's route
    # refuses (internship.months_max).
    scenario.expected_dead_letters = sum(event_key(line) is None for line in lines) + 1
    scenario.duplicates = 1
    return scenario
