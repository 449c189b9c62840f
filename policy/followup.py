"""K9 unemployed_followup (登记失业人员跟踪服务, §20, §11, §16, §18) as pure functions.

The registration period starts on the registration date R; month n is [R + (n-1) months,
R + n months) (POLICY.md conventions). §20 每月至少进行1次跟踪调查: the follow-up of month n falls
due at its end (R + n months), a contact dated inside month n completes it, and without one
`followup.grace_days` later the case escalates to the city supervisor. The grace days are a
tolerance for contacts reported late, not a longer month: a contact dated after month n ended
belongs to month n + 1.
"""

from __future__ import annotations

from datetime import date, timedelta

from contracts.parameters import Parameters
from policy.calendar import add_months

ESCALATION_TASK = "followup_escalation"
# The rules K9's timeline and tasks cite.
RULE_FOLLOWUP = "§20 每月至少进行1次跟踪调查: a contact dated in registered month n completes its follow-up"
RULE_ESCALATION = "§20: no follow-up in registered month n by followup.grace_days after it fell due → city supervisor"
RULE_LONG_TERM = "§10 登记失业半年以上: registered ≥ hiring.long_term_unemployed_months months (read by K6b)"
RULE_TRAINING = "§11 将20岁以下有意愿的登记失业人员纳入劳动预备制培训政策范围 (trainee.max_age, trainee.window_*)"
RULE_TREATED_AS = "§16 参照: ≥ 12 continuous months registered, no flexible/self-employment, ≥ 2 referrals without a job"
RULE_CLOSED = "§18/§20: the registration ended (deregistered or employed); follow-up stops"


def registered_month(registered_on: date, on: date) -> int | None:
    """The registration month n (1-based) that contains `on`; None before the registration."""
    if on < registered_on:
        return None
    n = 1
    while add_months(registered_on, n) <= on:
        n += 1
    return n


def due_date(registered_on: date, n: int) -> date:
    """§20: the follow-up of month n falls due at the month's end, R + n months."""
    return add_months(registered_on, n)


def escalation_date(registered_on: date, n: int, params: Parameters) -> date:
    """`followup.grace_days` (in force on the due date) after the follow-up of month n fell due."""
    due = due_date(registered_on, n)
    return due + timedelta(days=params.get("followup.grace_days", due))


def long_term_unemployed_since(registered_on: date, params: Parameters, on: date) -> date:
    """§10 (K6b) 登记失业半年以上: the day the person has been registered
    `hiring.long_term_unemployed_months` months (value in force on `on`)."""
    return add_months(registered_on, params.get("hiring.long_term_unemployed_months", on))


def is_long_term_unemployed(registered_on: date, params: Parameters, on: date) -> bool:
    """Registered ≥ `hiring.long_term_unemployed_months` months on `on`."""
    return long_term_unemployed_since(registered_on, params, on) <= on


def under_age(birth_date: date, on: date, max_age: int) -> bool:
    """Younger than `max_age` years on `on` (the birthday itself is the first day of that age)."""
    return on < add_months(birth_date, 12 * max_age)


def trainee_eligible_on(
    registered_on: date, birth_date: date, willing: bool | None, params: Parameters
) -> date | None:
    """§11 劳动预备制: the first day a registered unemployed person under `trainee.max_age` who
    is willing to train falls in the trainee window, or None if they never do.

    A registration inside the window is judged on its date. One made before the window opened
    is judged on the window's first day (the person is still a registered unemployed person
    then, which the case checks by being open), so age is taken on that day: §11 covers those
    under 20 while the measure is in force.
    """
    if not willing:
        return None
    start = params.day("trainee.window_from", registered_on)
    until = params.day("trainee.window_until", registered_on)
    judged = max(registered_on, start)
    if judged > until:
        return None
    if not under_age(birth_date, judged, params.get("trainee.max_age", judged)):
        return None
    return judged
