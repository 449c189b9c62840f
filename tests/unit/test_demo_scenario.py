"""The demo scenario of `jiuye demo` (app/demo_scenario.py): the whole province, every case
kind, and nothing of one run that another run (or another scenario of the same run) shares."""

from __future__ import annotations

import json
from datetime import date

from activities.memory_store import MemoryStore
from app.demo_scenario import (
    BUSINESS_DATE,
    EXTRA_INCUBATORS,
    HEADCOUNT_AFTER,
    HEADCOUNT_BEFORE,
    PROVINCE_FACTS,
    PROVINCE_WIDE,
    committed_scenarios,
    continuing,
    event_key,
    generate,
    retag,
)
from console.service.labels import CITIES as CITY_NAMES
from contracts.events import InvalidEvent, parse_event
from policy.headcount_drop import arrivals, is_drop
from policy.pack import load_pack
from workflows.registry import KINDS

TAG = "D261201120000"


def _events(scenario) -> list[dict]:
    out = []
    for line in scenario.lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_every_case_kind_is_in_the_demo() -> None:
    # The committed scenarios' hand-derived results name the kinds they open; the demo takes
    # every committed scenario, so a kind added with its scenario is in the demo too.
    scenario = generate(6, TAG)
    kinds = {"internship_subsidy"}
    for path in committed_scenarios():
        assert path.stem in scenario.scenarios
        expected = json.loads(path.with_suffix("").with_suffix(".expected.json").read_text())
        cases = expected["cases"]
        kinds |= {c["kind"] for c in (cases.values() if isinstance(cases, dict) else cases)}
    assert kinds == set(KINDS)


def test_ids_carry_the_run_tag_and_a_prefix_per_scenario() -> None:
    scenario = generate(6, TAG)
    events = _events(scenario)
    for event in events:
        assert event["id"].startswith(TAG), event["id"]
        kind, _, rest = event["subject"].partition("/")
        if kind in ("person", "enterprise", "agency", "bank", "incubator"):
            assert rest.startswith(TAG), event["subject"]
    # Two committed scenarios that both speak of a person P101 speak of two people here.
    loans = {e["data"]["loan_id"] for e in events if e["type"] == "loan.granted"}
    assert loans and all(loan.startswith(f"{TAG}S") for loan in loans)


def test_retag_prefixes_ids_and_leaves_cities_dates_and_amounts() -> None:
    event = {"id": "k13-001", "source": "bank/2101", "type": "loan.granted", "subject": "person/P1301",
             "time": "2020-04-01T09:00:00+08:00",
             "data": {"loan_id": "K13-1", "bank_id": "B13", "borrower": "P1301", "city": "2101", "principal": 10000000,
                      "granted_on": "2020-04-01", "groups": ["graduate"], "person_ids": ["P1", "person/P2"],
                      "details": {"applicant": "E1", "year": 2020}}}
    out = retag(event, "X")
    assert out["id"] == "X-k13-001" and out["subject"] == "person/XP1301" and out["source"] == "bank/2101"
    assert out["data"] == {"loan_id": "XK13-1", "bank_id": "XB13", "borrower": "XP1301", "city": "2101", "principal": 10000000,
                           "granted_on": "2020-04-01", "groups": ["graduate"], "person_ids": ["XP1", "person/XP2"],
                           "details": {"applicant": "XE1", "year": 2020}}
    assert retag({"id": "a", "subject": "city/2101", "data": {}}, "X")["subject"] == "city/2101"


def test_only_the_demos_own_province_wide_facts() -> None:
    # The committed scenarios' own policy facts contradict each other; the demo keeps one of each
    # ingredient (PROVINCE_FACTS), under the run's tag.
    facts = [e for e in _events(generate(6, TAG)) if e["type"].startswith(PROVINCE_WIDE)]
    assert [e["type"] for e in facts] == [type_ for _, type_ in PROVINCE_FACTS]
    assert all(e["id"].startswith(f"{TAG}F-") for e in facts)


def test_the_epidemic_is_declared_and_lifted_a_price_linkage_and_a_backdated_change() -> None:
    scenario = generate(6, TAG)
    facts = {e["type"]: e for e in _events(scenario) if e["type"].startswith(PROVINCE_WIDE)}
    declared, lifted = facts["policy.epidemic.declared"], facts["policy.epidemic.lifted"]
    assert declared["subject"] == lifted["subject"] == "province/21"
    assert declared["data"]["on"] < lifted["data"]["on"] < BUSINESS_DATE.isoformat()
    linkage = facts["policy.price_linkage.triggered"]["data"]
    assert linkage["city"] in CITY_NAMES and linkage["amount"] > 0
    change = facts["policy.parameter.changed"]
    # Backdated: announced after the date it takes effect, so the cases it reaches correct.
    assert change["data"]["effective_on"] < change["time"][:10]
    assert scenario.province_facts == [type_ for _, type_ in PROVINCE_FACTS]


def test_every_city_of_liaoning_is_in_the_demo() -> None:
    cities = {e["data"]["city"] for e in _events(generate(70, TAG)) if e["type"] == "internship.agreement_signed"}
    assert cities >= set(CITY_NAMES) and len(CITY_NAMES) == 14


def test_a_few_hundred_people_and_enterprises() -> None:
    events = _events(generate(70, TAG))
    people = {e["subject"] for e in events if e["subject"].startswith("person/")}
    enterprises = {e["subject"] for e in events if e["subject"].startswith("enterprise/")} | {
        e["data"]["unit_id"] for e in events if e["type"] == "internship.agreement_signed"}
    assert len(people) >= 200 and len(enterprises) >= 20, (len(people), len(enterprises))


def test_the_scenario_is_deterministic_for_a_tag_and_a_seed() -> None:
    # Two runs of `jiuye demo` produce the same records but for the run's tag.
    assert generate(70, TAG).lines == generate(70, TAG).lines
    other = "D261201130000"
    assert [line.replace(other, TAG) for line in generate(70, other).lines] == generate(70, TAG).lines
    assert generate(70, TAG, seed=7).lines != generate(70, TAG).lines


def test_records_are_valid_except_the_bad_ones() -> None:
    scenario = generate(6, TAG)
    refused = []
    for line in scenario.lines:
        try:
            parse_event(line.encode())
        except InvalidEvent as exc:
            refused.append(str(exc))
    assert len(refused) == 2  # the unknown type and the line that is not JSON
    assert scenario.expected_dead_letters == 3  # and the 15-month agreement, refused by K1's route
    # The duplicate is the first event again: one inbox row.
    keys = [k for k in map(event_key, scenario.lines) if k is not None]
    assert len(keys) - len(set(keys)) >= scenario.duplicates
    assert scenario.valid_events() == len(set(keys))


def test_eleven_provincial_applications_of_2020() -> None:
    applications = [e for e in _events(generate(6, TAG))
                    if e["type"] == "application.submitted" and e["data"]["program"] == "incubator_provincial"
                    and e["data"]["details"]["year"] == 2020]
    slots = int(load_pack("liaoning-2020").parameters(None).get("incubator.provincial_slots", date(2020, 1, 1)))
    assert len(applications) == EXTRA_INCUBATORS + 1 == slots + 1


async def test_a_headcount_drop_that_m2_alerts_on() -> None:
    # The demo's contributions, each stored and judged in turn through M2's own store query and rule.
    scenario = generate(6, TAG)
    store, comparisons = MemoryStore(), []
    for e in _events(scenario):
        if e["type"] == "contribution.paid" and e["data"].get("employer_id") == scenario.headcount_enterprise:
            event = parse_event(json.dumps(e).encode())
            await store.store_subject_facts([(event, [])])
            found = await store.headcount_comparisons(arrivals([(e["data"]["employer_id"], e["data"]["month"])]))
            await store.mark_headcount_judged([(c.enterprise_id, c.month) for c in found])
            comparisons += found
    params = load_pack("liaoning-2020").parameters("2103")
    drops = [c for c in comparisons if is_drop(c, params)]
    assert [(c.previous_month, c.previous_headcount, c.month, c.headcount) for c in drops] == [
        ("2020-03", HEADCOUNT_BEFORE, "2020-04", HEADCOUNT_AFTER)]


def test_nothing_after_the_demo_business_date() -> None:
    days = [e["time"][:10] for e in _events(generate(6, TAG))]
    assert max(days) < BUSINESS_DATE.isoformat()


def test_a_day_continues_when_it_speaks_of_a_subject_of_an_earlier_day() -> None:
    # The days before which `jiuye demo` waits for the cases to act (app/demo.py `_day_done`).
    day = lambda *subjects: [json.dumps({"subject": s}) for s in subjects]  # noqa: E731
    assert continuing([day("person/A"), day("person/B"), day("person/A", "person/C"), ["{not json"], day("person/C")]) == [
        False, False, True, False, True]
