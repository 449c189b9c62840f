"""A supervisor's decision on a task the disbursement desk raised, as a pure transition of the
ledger key's state (policy/disbursement.py). POLICY.md part 2 names the tasks and not their
decisions; the decision set below is this module's reading of it:

- `payment_returned` (a key returned after `disbursement.max_attempts`):
  `{"action": "reinstruct"}` instructs again to the payee's current account (a new attempt past
  the limit: the supervisor takes the decision the limit reserved for them); an account the
  treasury called closed is refused until the payee's account changes. `{"action": "stop",
  "reason": "..."}` stops the key: nothing instructs it again.
- `payment_unconfirmed` (no answer after `disbursement.result_days`): `{"action": "settled",
  "reference": "..."}` records the treasury's confirmation (its reference) as the settlement of
  the outstanding instruction; `{"action": "returned", "reason": "account_closed" | ...}` records
  it returned, which then follows the rules of a return; `{"action": "reinstruct"}` sends a new
  attempt to the current account (should the first still settle, the key's second settlement is
  a `double_settlement`, as for any late answer).
- `awaiting_account` (a payee without an account for `disbursement.awaiting_account_days`):
  `{"action": "wait"}` keeps the key waiting (the account's arrival instructs it); `{"action":
  "close", "reason": "..."}` stops it.

A decision the task cannot take, or that the key has moved past (the account arrived, the answer
came), is `Refused` with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal, cast, get_args

from policy import disbursement as rules

Action = Literal["reinstruct", "stop", "settled", "returned", "wait", "close"]

ACTIONS: dict[rules.TaskKind, tuple[Action, ...]] = {
    "payment_returned": ("reinstruct", "stop"),
    "payment_unconfirmed": ("settled", "returned", "reinstruct"),
    "awaiting_account": ("wait", "close"),
}
DESK_TASKS = frozenset(ACTIONS)
RETURN_REASONS: tuple[str, ...] = get_args(rules.ReturnReason)
# The status a task was raised in: a key that has left it has moved past the task.
_RAISED_IN: dict[rules.TaskKind, rules.Status] = {
    "payment_returned": "returned",
    "payment_unconfirmed": "instructed",
    "awaiting_account": "awaiting_account",
}


class Refused(ValueError):
    """The decision does not fit the task or the key's state now."""


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str | None = None  # why a key is stopped, or the return reason of `returned`
    reference: str | None = None  # the treasury's reference of a confirmed settlement

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in {"action": self.action, "reason": self.reason, "reference": self.reference}.items()
                if v is not None}


def parse(kind: rules.TaskKind, raw: Mapping[str, Any]) -> Decision:
    """The decision in `raw` for a task of `kind`, or Refused saying what the task takes."""
    allowed = ACTIONS[kind]
    action = raw.get("action")
    if action not in allowed:
        raise Refused(f"a {kind} task takes action {' | '.join(allowed)}, not {action!r}")
    unknown = set(raw) - {"action", "reason", "reference"}
    if unknown:
        raise Refused(f"unknown field(s) in the decision: {', '.join(sorted(unknown))}")
    reason = _text(raw, "reason")
    reference = _text(raw, "reference")
    if action in ("stop", "close") and reason is None:
        raise Refused(f"action {action} needs a reason")
    if action == "settled" and reference is None:
        raise Refused("action settled needs the treasury's reference")
    if action == "returned" and reason not in RETURN_REASONS:
        raise Refused(f"action returned needs reason {' | '.join(RETURN_REASONS)}, not {reason!r}")
    return Decision(cast(Action, action), reason, reference)


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refused(f"{name} must be text")
    return value.strip() or None


def decide(state: rules.Disbursement, kind: rules.TaskKind, decision: Decision, today: date,
           current_account: str | None, limits: rules.Limits) -> rules.Step:
    """The key's next state once the supervisor decided its task of `kind`."""
    if state.status != _RAISED_IN[kind]:
        raise Refused(f"the payment is {state.status} since {state.since}, no longer {_RAISED_IN[kind]}: "
                      "the task is out of date")
    action = decision.action
    if action == "reinstruct":
        if current_account is None:
            raise Refused("the payee has no account on file: wait for payee.account_registered or stop")
        if state.reason == "account_closed" and current_account == state.account_ref:
            raise Refused("the treasury returned this account as closed and the payee has not changed it: "
                          "wait for payee.account_updated or stop")
        return rules.reinstruct(state, current_account, today)
    if action in ("stop", "close"):
        return rules.Step(replace(state, status="stopped", since=today, version=state.version + 1))
    if action == "settled":
        return rules.settled(state, state.instruction_id or "", today)
    if action == "returned":
        reason = cast(rules.ReturnReason, decision.reason)
        return rules.returned(state, state.instruction_id or "", today, reason, current_account, limits)
    # wait: the key stays as it is; the decision is the task's (its version moves, so it is written)
    return rules.Step(replace(state, version=state.version + 1))
