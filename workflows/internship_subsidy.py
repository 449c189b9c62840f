"""K1 internship_subsidy: one internship agreement, its monthly unit subsidy and its ending.

A case opened by this code pays by stating what the unit is owed (`owed`: the completed months,
pause-aware, `policy.internship.owed_months`) and reconciling the ledger with it, so a late
interruption, an early end or a hire reported late, or a backdated `internship.monthly_subsidy`
makes an overpayment or arrears (POLICY.md part 2); a case opened before pays month by month as
it always did (paid stays paid). Under `k1-resume-matches-its-pause` two interruptions stand
whatever order they arrive in: a resumption ends the open pause it follows. Under
`k1-close-once-owed-fell-due` an end or a hire by the unit dated after today closes the case only
once the months it owes by then have fallen due, each paid on its day (`close_on_stop`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import (
        ContractSigned,
        InternshipAgreementSigned,
        InternshipEnded,
        InternshipInterrupted,
        InternshipResumed,
    )
    from policy import internship
    from policy.corrections import Owed
    from policy.funds import Fund
    from policy.monthly_schedule import last_month_paid, monthly_owed
    from workflows._states import InternshipState
    from workflows.case_base import CaseWorkflow

KIND = kinds.INTERNSHIP_SUBSIDY
# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k1-reconcile-owed"
# A closed case that paid takes, in its listening window, the hire, interruption or end dated
# inside the internship as a correction (POLICY.md part 2: facts still correct a case up to
# ledger.correction_days after it closed); before this, the route gave them to open cases only
# (found by tests/workflow/test_order_independence.py).
LATE_FACTS_CORRECT = "k1-late-facts-correct"
# Cases opened from here on owe nothing for a month an interruption holds until its resumption is
# known, as when the facts come in order (tests/workflow/test_order_independence.py found a month
# paid before a late interruption stay paid); before, it stayed owed until the period end.
OPEN_PAUSE_OWES_NOTHING = "k1-open-pause-owes-nothing"
# Cases opened from here on take an interruption dated before the open one (an earlier
# interruption reported late, with its resumption), and a resumption ends the open pause it
# follows, the latest begun on or before it (tests/workflow/test_order_independence.py found the
# earlier interruption ignored and its resumption ending the later pause); before, an
# interruption while interrupted was ignored and a resumption ended the first open pause.
RESUME_MATCHES_ITS_PAUSE = "k1-resume-matches-its-pause"
# An end, or a hire by the unit, dated after the business day (an end notified ahead, a sender's
# clock a little ahead of ours around Shanghai midnight) no longer closes the case at once: the
# months completing by that day are owed (§14), so the case stays open, pays each on its
# completion day and then closes as it would have (CaseWorkflow.close_once_owed); before, it
# closed at once and those months, falling due after it closed, were never paid. Decided when the
# stop fact is taken, so running cases take it too.
CLOSE_ONCE_OWED_FELL_DUE = "k1-close-once-owed-fell-due"


@workflow.defn(name=KIND)
class InternshipSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("internship.",)  # its parameters (case_base `context_scope`)
    State = InternshipState
    st: InternshipState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        agreement = InternshipAgreementSigned.model_validate(opening.data)
        self.st.agreement = agreement
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.st.open_pause_owes_nothing = self.st.reconciles and workflow.patched(OPEN_PAUSE_OWES_NOTHING)
        self.st.resume_matches_its_pause = self.st.reconciles and workflow.patched(RESUME_MATCHES_ITS_PAUSE)
        self.subject = f"person/{agreement.person_id}"
        self.city = agreement.city
        self.opened_on = agreement.starts_on
        self.keys = [self.subject]
        self.note(agreement.starts_on, f"agreement signed with unit {agreement.unit_id} for {agreement.months} months", event=opening.key)
        await self.load_context(agreement.city)
        params = self.params
        assert params is not None

        if not internship.cohort_eligible(agreement.cohort, params, agreement.starts_on):
            await self.close(
                "rejected",
                agreement.starts_on,
                f"§14: cohort {agreement.cohort} is not in internship.cohorts {params.get('internship.cohorts', agreement.starts_on)}",
            )
            return
        await self.record("opened", on=agreement.starts_on)
        if self.today() > agreement.starts_on:
            await self.gather_burst()

    # -- rules -------------------------------------------------------------------------------
    def deadline(self) -> date | None:
        """The next day something falls due: the next month's completion or the period end."""
        a = self.st.agreement
        if a is None:
            return None
        candidates = [
            d
            for d in (
                internship.completion_date(a.starts_on, self.st.months_paid + 1, self.st.pauses) if self.st.months_paid < a.months else None,
                internship.period_end(a.starts_on, a.months, self.st.pauses),
            )
            if d is not None
        ]
        if self.st.open_pause_owes_nothing:
            # A month overpaid while an interruption held it is owed again once the resumption is
            # known, on its new completion day, though `months_paid` counted it already.
            due = self.owed_due_after(self.today())
            if due is not None:
                candidates.append(due)
        return min(candidates) if candidates else None

    async def settle(self, today: date) -> None:
        """Pay every month completed by `today`; at the period end, close `completed`."""
        a = self.st.agreement
        assert a is not None
        if self.st.reconciles:
            await self.pay_owed()
        else:
            await self.pay_completed(today, rule=internship.RULE_MONTH)
        if self.closing is not None:
            return  # stopped (ended or hired): the base closes as decided once what is owed fell due
        end = internship.period_end(a.starts_on, a.months, self.st.pauses)
        if end is not None and today >= end:
            months = internship.completed_months(a.starts_on, a.months, self.st.pauses, end)
            await self.close(
                "completed",
                end,
                f"period ended on {end} after {months} of {a.months} months completed"
                + ("" if months == a.months else " (a non-epidemic interruption does not move the end)"),
            )

    # -- what the unit is owed (cases opened by this code) ------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """Every month completed, or still to complete, on the facts known now (None for a case
        that pays the old way), priced at the value in force on the day the month begins."""
        a = self.st.agreement
        if not self.st.reconciles or a is None or self.params is None:
            return None
        params = self.params
        lump_on = self.st.hired_on if self.lump() else None
        schedule = {m.n: m for m in internship.owed_months(a.starts_on, a.months, self.st.pauses, today, self.stopped_on(), lump_on,
                                                      held_owed_until_period_end=not self.st.open_pause_owes_nothing)}
        return monthly_owed(
            program=internship.PROGRAM, payee=f"enterprise/{a.unit_id}", fund=str(Fund.EMPLOYMENT_SUBSIDY), first_day=a.starts_on,
            months=sorted(schedule),
            amount=lambda n, _: params.get("internship.monthly_subsidy", schedule[n].begins),
            rule=lambda n, _: self.lump_rule() if schedule[n].lump else internship.RULE_MONTH,
            due_on=lambda n, _: schedule[n].due_on,
        )

    def removal_rule(self) -> str:
        return internship.RULE_NOT_COMPLETED

    def stopped_on(self) -> date | None:
        """The day the internship stopped: ended early, or hired by the unit."""
        days = [d for d in (self.st.ended_on, self.st.hired_on) if d is not None]
        return min(days) if days else None

    def lump(self) -> bool:
        """Hired by the unit with < 1/3 left by the §14 deadline, judged on the pauses known now."""
        a = self.st.agreement
        assert a is not None and self.params is not None
        on = self.st.hired_on
        return on is not None and on == self.stopped_on() and internship.full_subsidy_on_hire(a.starts_on, a.months, self.st.pauses, on, self.params)

    def lump_rule(self) -> str:
        a = self.st.agreement
        on = self.st.hired_on
        assert a is not None and on is not None and self.params is not None
        total = internship.period_days(a.starts_on, a.months)
        served = internship.served_days(a.starts_on, on, self.st.pauses)
        return (
            f"§14: hired by the unit with {total - served} of {total} days left (< 1/3) on {on}, "
            f"on or before {self.params.day('internship.full_subsidy_until', on)}: every month is paid"
        )

    async def pay_owed(self) -> None:
        """Reconcile on the business day (not on the date of a fact being applied: a correction
        falls due the day it is known), then count the months paid from the ledger."""
        self.st.months_paid = last_month_paid(await self.reconcile_owed(self.today(), self.st.cause), self.st.months_paid)

    async def pay_completed(self, on: date, rule: str) -> None:
        a = self.st.agreement
        assert a is not None
        done = internship.completed_months(a.starts_on, a.months, self.st.pauses, on)
        while self.st.months_paid < done:
            n = self.st.months_paid + 1
            due = internship.completion_date(a.starts_on, n, self.st.pauses)
            assert due is not None
            await self.pay_month(n, due, rule)

    async def pay_month(self, n: int, due_on: date, rule: str) -> None:
        a = self.st.agreement
        assert a is not None and self.params is not None
        month_start = internship.completion_date(a.starts_on, n - 1, self.st.pauses) if n > 1 else a.starts_on
        amount = self.params.get("internship.monthly_subsidy", month_start or due_on)
        await self.pay(
            payee=f"enterprise/{a.unit_id}",
            program=internship.PROGRAM,
            period=f"month-{n}",
            amount=amount,
            fund=str(Fund.EMPLOYMENT_SUBSIDY),
            due_on=due_on,
            rule=rule,
        )
        self.st.months_paid = n

    async def apply(self, ev: CaseEvent) -> None:
        a = self.st.agreement
        assert a is not None
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if not self.is_open and self.st.reconciles and workflow.patched(LATE_FACTS_CORRECT):
            self.take_late_correction(ev)
            return
        # Anything dated before it is applied must first settle what fell due until then.
        if ev.type == "internship.interrupted":
            e = InternshipInterrupted.model_validate(ev.data)
            if self.after_the_stop(e.on, f"interrupted ({e.reason})", ev):
                return
            if not self.takes_interruption(e.on):
                self.note(e.on, "interruption while already interrupted: ignored", event=ev.key)
                return
            if self.st.reconciles:
                # What was owed does not depend on the order facts came in; only a period over
                # before the interruption closes the case first.
                if self.ended_before(e.on):
                    await self.settle(self.today())
                    return
                self.st.cause = ev.key
            else:
                await self.settle(e.on)
            if not self.is_open:
                return
            self.interrupt(e, ev)
            await self.record("paused", on=e.on)
            if self.closing is not None:
                await self.close_on_stop()
        elif ev.type == "internship.resumed":
            resumed = InternshipResumed.model_validate(ev.data)
            if not self.resume(resumed, ev):
                return
            self.st.cause = ev.key
            await self.record("resumed", on=resumed.on)
            if self.closing is not None:
                await self.close_on_stop()
        elif ev.type == "contract.signed":
            await self.hired(ContractSigned.model_validate(ev.data), ev)
        elif ev.type == "internship.ended":
            ended = InternshipEnded.model_validate(ev.data)
            if self.st.reconciles:
                if self.after_the_stop(ended.on, f"ended early ({ended.reason})", ev):
                    return
                self.st.ended_on, self.st.ended_reason, self.st.cause = ended.on, ended.reason, ev.key
                await self.close_on_stop()
                return
            await self.pay_completed(ended.on, rule="§14: completed months only when the internship ends early")
            await self.close("ended", ended.on, f"ended early ({ended.reason}): {self.st.months_paid} completed months paid")
        else:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)

    def take_late_correction(self, ev: CaseEvent) -> None:
        """A hire, interruption, resumption or end reaching the closed case: one dated inside the
        internship (before the day it closed) changes the facts `owed` reads, and the base
        reconciles the ledger with them (`take_late_fact`); one dated on or after that day
        concerns no month of it. The case stays closed as it was: nothing more falls due."""
        a = self.st.agreement
        assert a is not None and self.closed_on is not None
        if ev.type == "contract.signed":
            contract = ContractSigned.model_validate(ev.data)
            on, what = contract.signed_on, f"hired by {contract.employer_id}"
            if contract.employer_id != a.unit_id:
                self.note(on, f"late contract with another employer {contract.employer_id}: no effect", event=ev.key)
                return
        elif ev.type == "internship.interrupted":
            interrupted = InternshipInterrupted.model_validate(ev.data)
            on, what = interrupted.on, f"interrupted ({interrupted.reason})"
        elif ev.type == "internship.resumed":
            on, what = InternshipResumed.model_validate(ev.data).on, "resumed"
        elif ev.type == "internship.ended":
            ended = InternshipEnded.model_validate(ev.data)
            on, what = ended.on, f"ended early ({ended.reason})"
        else:
            self.note(self.today(), f"late {ev.type} does not concern this case", event=ev.key)
            return
        if ev.type != "internship.resumed" and on >= self.closed_on:
            self.note(on, f"late: {what} on or after the internship closed on {self.closed_on}: no month of it changes", event=ev.key)
            return
        if ev.type == "contract.signed":
            self.st.hired_on = on if self.st.hired_on is None else min(on, self.st.hired_on)
        elif ev.type == "internship.interrupted":
            if not self.takes_interruption(on):
                self.note(on, "interruption while already interrupted: ignored", event=ev.key)
                return
            self.interrupt(interrupted, ev)
        elif ev.type == "internship.resumed":
            if not self.resume(InternshipResumed.model_validate(ev.data), ev):
                return
        else:
            self.st.ended_on = on if self.st.ended_on is None else min(on, self.st.ended_on)
        self.st.cause = ev.key
        self.note(on, f"late: {what} inside the internship; the months it changes are corrected", event=ev.key)

    def interrupt(self, e: InternshipInterrupted, ev: CaseEvent) -> None:
        a = self.st.agreement
        assert a is not None
        epidemic = e.reason == "epidemic"
        self.st.pauses.append(internship.Pause(start=max(e.on, a.starts_on), end=None, epidemic=epidemic))
        self.note(
            e.on,
            f"interrupted ({e.reason})",
            rule="§14 相应延长: epidemic days move the end back"
            if epidemic
            else "other interruptions pause accrual but do not move the end",
            event=ev.key,
        )

    def takes_interruption(self, on: date) -> bool:
        """Whether an interruption from `on` is a pause of its own: none is open, or (cases opened
        under k1-resume-matches-its-pause) it begins before every open one: an earlier
        interruption, reported late with its resumption, behind a later one still open."""
        a = self.st.agreement
        assert a is not None
        open_starts = [p.start for p in self.st.pauses if p.end is None]
        return not open_starts or (self.st.resume_matches_its_pause and max(on, a.starts_on) < min(open_starts))

    def resume(self, e: InternshipResumed, ev: CaseEvent) -> bool:
        """End the open pause on `e.on`; False (noted) when none is open. Under
        k1-resume-matches-its-pause the pause it follows: the latest open one begun on or before
        `e.on` (else, as before, the first open one)."""
        open_pauses = [p for p in self.st.pauses if p.end is None]
        begun = [p for p in open_pauses if p.start <= e.on] if self.st.resume_matches_its_pause else []
        open_pause = max(begun, key=lambda p: p.start) if begun else next(iter(open_pauses), None)
        if open_pause is None:
            self.note(e.on, "resumed while not interrupted: ignored", event=ev.key)
            return False
        end = max(e.on, open_pause.start)
        self.st.pauses[self.st.pauses.index(open_pause)] = internship.Pause(start=open_pause.start, end=end, epidemic=open_pause.epidemic)
        self.note(e.on, f"resumed after {(end - open_pause.start).days} days", event=ev.key)
        return True

    async def hired(self, contract: ContractSigned, ev: CaseEvent) -> None:
        a = self.st.agreement
        assert a is not None and self.params is not None
        on = contract.signed_on
        if contract.employer_id != a.unit_id:
            self.note(on, f"contract with another employer {contract.employer_id}: no effect", event=ev.key)
            return
        if self.st.reconciles:
            if self.after_the_stop(on, f"hired by {contract.employer_id}", ev):
                return
            self.st.hired_on, self.st.cause = on, ev.key
            await self.close_on_stop()
            return
        total = internship.period_days(a.starts_on, a.months)
        served = internship.served_days(a.starts_on, on, self.st.pauses)
        if internship.full_subsidy_on_hire(a.starts_on, a.months, self.st.pauses, on, self.params):
            rule = (
                f"§14: hired by the unit with {total - served} of {total} days left (< 1/3) on {on}, "
                f"on or before {self.params.day('internship.full_subsidy_until', on)}: every month is paid"
            )
            await self.pay_completed(on, rule=internship.RULE_MONTH)
            while self.st.months_paid < a.months:
                await self.pay_month(self.st.months_paid + 1, on, rule)
            await self.close("hired_full_subsidy", on, rule)
            return
        await self.pay_completed(on, rule="§14: completed months only when hired with a third or more left")
        await self.close(
            "hired",
            on,
            f"hired by the unit with {total - served} of {total} days left (not < 1/3, or after the window): "
            f"{self.st.months_paid} completed months paid",
        )

    async def close_on_stop(self) -> None:
        """The internship stopped (`stopped_on`: ended early, or hired by the unit, whichever came
        first): pay what is owed by today, then close by the rule of that stop, at once, or (patch
        k1-close-once-owed-fell-due) once the months completing by the stop day have fallen due,
        each paid on its completion day (`close_once_owed`). Called again when a fact reaches
        the case meanwhile, with the months owed on the facts known then."""
        a = self.st.agreement
        stopped = self.stopped_on()
        assert a is not None and stopped is not None
        await self.pay_owed()
        if stopped == self.st.hired_on:
            if self.lump():
                await self.close_once_owed("hired_full_subsidy", stopped, self.lump_rule(), CLOSE_ONCE_OWED_FELL_DUE)
                return
            total = internship.period_days(a.starts_on, a.months)
            served = internship.served_days(a.starts_on, stopped, self.st.pauses)
            done = len(self.owed(self.today()) or [])
            await self.close_once_owed(
                "hired",
                stopped,
                f"hired by the unit with {total - served} of {total} days left (not < 1/3, or after the window): "
                f"{done} completed months owed",
                CLOSE_ONCE_OWED_FELL_DUE,
            )
            return
        done = len(self.owed(self.today()) or [])
        await self.close_once_owed("ended", stopped, f"ended early ({self.st.ended_reason}): {done} completed months owed", CLOSE_ONCE_OWED_FELL_DUE)

    def after_the_stop(self, on: date, what: str, ev: CaseEvent) -> bool:
        """While a close waits for what is owed (`close_once_owed`), a hire, end or interruption
        dated on or after the day the internship stopped concerns no month of it: noted, True.
        (A stop dated earlier is the stop now; a resumption is always taken.)"""
        if self.closing is None:
            return False
        stopped = self.stopped_on()
        assert stopped is not None
        if on < stopped:
            return False
        self.note(on, f"{what} on or after the internship stopped on {stopped}: no month of it changes", event=ev.key)
        return True

    def ended_before(self, day: date) -> bool:
        """Whether the period ended on or before `day` (an epidemic pause still open: not known)."""
        a = self.st.agreement
        assert a is not None
        end = internship.period_end(a.starts_on, a.months, self.st.pauses)
        return end is not None and day >= end

    def paused(self) -> bool:
        return any(p.end is None for p in self.st.pauses)

    def details(self) -> dict[str, Any]:
        a = self.st.agreement
        if a is None:
            return {}
        end = internship.period_end(a.starts_on, a.months, self.st.pauses)
        return {
            "unit_id": a.unit_id,
            "starts_on": a.starts_on.isoformat(),
            "agreed_months": a.months,
            "cohort": a.cohort,
            "months_paid": self.st.months_paid,
            "period_end": end.isoformat() if end else None,
            "pauses": [
                {"start": p.start.isoformat(), "end": p.end.isoformat() if p.end else None, "epidemic": p.epidemic}
                for p in self.st.pauses
            ],
            "generation": self.generation,  # runs since the case opened (continue-as-new)
        }
