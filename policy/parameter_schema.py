"""Whether a proposed parameter change fits the policy pack: the name is one of the pack's and
the value has the shape of the pack's own value for it (a whole number of fen, months or people;
a ratio [numerator, denominator]; a date; a list of the same kind of items; a name). One home
for that check: the console's proposals (console/service/proposals.py) and the CLI both call it,
so a change that could not be applied is refused before anyone previews or approves it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from contracts.events import CITY_CODE
from policy.pack import PolicyPack


class InvalidChange(ValueError):
    """A proposal that does not fit the pack, with the reason in words."""


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, date):
        return "a date (YYYY-MM-DD)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a text"
    return type(value).__name__


def _as_date(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def validate_change(pack: PolicyPack, name: str, value: Any, city: str | None) -> Any:
    """The value as the event carries it (dates as ISO text), or InvalidChange with the reason."""
    if city is not None and not CITY_CODE.match(city):
        raise InvalidChange(f"city {city!r} is not a Liaoning city code (21xx)")
    if name not in pack.defaults:
        close = sorted(n for n in pack.defaults if n.split(".")[0] == name.split(".")[0])
        hint = f"; parameters of {name.split('.')[0]}: {', '.join(close)}" if close else ""
        raise InvalidChange(f"unknown parameter {name!r} in pack {pack.name}{hint}")
    current = pack.value(name, city)
    if isinstance(current, date):
        iso = _as_date(value)
        if iso is None:
            raise InvalidChange(f"{name} is a date (YYYY-MM-DD), got {value!r}")
        return iso
    if isinstance(current, bool) or isinstance(value, bool):
        if not (isinstance(current, bool) and isinstance(value, bool)):
            raise InvalidChange(f"{name} is {_shape(current)}, got {value!r}")
        return value
    if isinstance(current, int):
        if not isinstance(value, int):
            raise InvalidChange(f"{name} is {_shape(current)} (fen, months or people), got {value!r}")
        if value < 0:
            raise InvalidChange(f"{name} cannot be negative, got {value}")
        return value
    if isinstance(current, list):
        if not isinstance(value, list):
            raise InvalidChange(f"{name} is a list like {current!r}, got {value!r}")
        if len(current) == 2 and all(_shape(c) == "a whole number" for c in current):
            # A pair of whole numbers: a ratio [numerator, denominator] (Parameters.ratio) or a pair
            # of cohorts; either way two whole numbers, the second positive.
            if len(value) != 2 or not all(_shape(v) == "a whole number" for v in value) or value[1] <= 0:
                raise InvalidChange(f"{name} is a pair of whole numbers like {current!r} (the second positive), got {value!r}")
            return value
        kinds = {_shape(c) for c in current}
        wrong = [v for v in value if _shape(v) not in kinds] if kinds else []
        if wrong:
            raise InvalidChange(f"{name} is a list of {' or '.join(sorted(kinds))}; {wrong!r} do not fit")
        return value
    if type(value) is not type(current):
        raise InvalidChange(f"{name} is {_shape(current)}, got {value!r}")
    return value



def change_event(event_id: str, name: str, value: Any, city: str | None, effective_on: date,
                 announced_at: datetime) -> dict[str, Any]:
    """The `policy.parameter.changed` CloudEvent (EVENTS.md) of a change: the one an approval
    emits and the one a preview feeds the cases, so both are the same event."""
    return {
        "specversion": "1.0", "id": event_id, "source": f"console/{city or '21'}", "type": "policy.parameter.changed",
        "subject": f"city/{city}" if city else "province/21", "time": announced_at.isoformat(),
        "datacontenttype": "application/json",
        "data": {"city": city, "name": name, "value": value, "effective_on": effective_on.isoformat()},
    }
