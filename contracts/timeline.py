"""What kind of thing a case's timeline entry is, said by the code that writes it, so a reader
(the console, in any language) shows and filters entries without reading their English.

Entries written before the type existed (carried across continue-as-new, or answered by a
worker not yet upgraded) have none: `legacy_entry_type` derives it, here and nowhere else, from
what those entries were written with — the one place that still reads a note's words."""

from __future__ import annotations

from typing import Literal, get_args

# decision: a rule decided something (opened on it, closed, extended, refused, alerted ...)
# payment / correction: a ledger row (a correction is arrears, an overpayment or a deduction)
# task: a task raised or settled; supervisor: a supervisor's action (hold, release)
# event: a fact the case took (or ignored) from an input event; note: anything else
# quarantine: an event the case refused, kept against it (written by the console from the
# quarantine table, never by a workflow: console/service/quarantine.py)
EntryType = Literal["decision", "payment", "correction", "task", "supervisor", "event", "note", "quarantine"]
ENTRY_TYPES: tuple[str, ...] = get_args(EntryType)

# How case_base worded the entries of these types before it typed them.
_LEGACY_CORRECTIONS = ("arrears", "overpayment", "deduction")
_LEGACY_SUPERVISOR = ("held by", "hold released")


def structural_entry_type(*, rule: str | None, event: str | None) -> EntryType:
    """The type of a note its writer did not type, from what it carries: a rule makes it a
    decision, an input event a fact taken."""
    if rule:
        return "decision"
    return "event" if event else "note"


def legacy_entry_type(what: str, *, rule: str | None = None, event: str | None = None, amount: int | None = None) -> EntryType:
    """The type of an entry written before entries had one (from its words, as the console read
    them then)."""
    if amount:
        return "correction" if what.startswith(_LEGACY_CORRECTIONS) else "payment"
    if what.startswith("task"):
        return "task"
    if what.startswith(_LEGACY_SUPERVISOR):
        return "supervisor"
    if what.startswith("closed"):
        return "decision"
    return structural_entry_type(rule=rule, event=event)
