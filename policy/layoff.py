"""K8 layoff_plan (经济性裁员, §3, §21): the pure rules of an economic layoff.

§3 对拟进行经济性裁员的企业…提前30日向工会或全体职工说明相关情况，依法依规支付经济补偿，偿还拖欠的
职工工资，补缴欠缴的社会保险费. §21 涉及企业关停并转的…同步制定应对规模性失业的措施.
Every number is a parameter of the pack (`layoff.*`), read for the date of the fact judged.
"""

from __future__ import annotations

from datetime import date, timedelta

from contracts.parameters import Parameters

OVERDUE_TASK = "obligations_overdue"
MASS_ALERT = "mass_unemployment"


def mass_layoff_rule(planned_count: int, insured_headcount: int, on: date, params: Parameters) -> str:
    """The rule text of a mass-unemployment alert: the plan against the thresholds in force on `on`."""
    persons = params.get("layoff.mass_threshold_persons", on)
    ratio = params.ratio("layoff.mass_threshold_ratio", on)
    return (f"§21 规模性失业: {planned_count} planned of {insured_headcount} insured; "
            f"threshold {persons} persons or {ratio.numerator}/{ratio.denominator} of the insured (at or over)")


def is_mass_layoff(planned_count: int, insured_headcount: int, on: date, params: Parameters) -> bool:
    """§21 规模性失业 (POLICY.md K8): a plan at or over `layoff.mass_threshold_persons` persons,
    or at or over `layoff.mass_threshold_ratio` of the insured headcount (boundary = at).

    A headcount of 0 (not reported) cannot make a plan massive through the ratio."""
    if planned_count >= int(params.get("layoff.mass_threshold_persons", on)):
        return True
    ratio = params.ratio("layoff.mass_threshold_ratio", on)
    # planned / headcount >= ratio, in integers (no floats near the boundary).
    return insured_headcount > 0 and planned_count * ratio.denominator >= ratio.numerator * insured_headcount


def earliest_effective_day(union_notified_on: date, params: Parameters) -> date:
    """§3 提前30日: the first day a layoff may take effect after the union (or all staff) was told."""
    return union_notified_on + timedelta(days=int(params.get("layoff.notice_days", union_notified_on)))


def is_premature(executed_on: date, union_notified_on: date | None, params: Parameters) -> bool:
    """§3: executed before `layoff.notice_days` after the union notice, or with no notice at all."""
    if union_notified_on is None:
        return True
    return executed_on < earliest_effective_day(union_notified_on, params)


def obligations_deadline(executed_on: date, params: Parameters) -> date:
    """The last day the obligations (compensation, wages owed, social-insurance arrears, §3) may
    be settled: `layoff.obligations_days` after the execution; the day after it they are overdue."""
    return executed_on + timedelta(days=int(params.get("layoff.obligations_days", executed_on)))


def is_overdue(today: date, deadline: date) -> bool:
    """Settled on the deadline is in time; from the next day it is overdue."""
    return today > deadline


def mass_alert_id(case_id: str) -> str:
    """One alert per plan, however often the case is replayed or retried."""
    return f"{MASS_ALERT}/{case_id}"
