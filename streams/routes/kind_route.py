"""`KindRoute`: what one case kind's route module declares, typed, with the defaults of what it
may leave out. `streams.routing` reads route modules only through it.

A route module (streams/routes/<kind>.py) declares

- `KIND`: the case kind it opens and signals;
- `HOLDS_SHARED_FACTS`: whether its running cases take shared facts (epidemic dates, parameter
  changes);
- `ROUTES`: its handler of each event type it takes (`Handler`);
- optionally `FACT_TYPES`: the input types it keeps as facts about their subjects;
- optionally `ROUTE_FACTS`: `{event type: {key kind: (fact types...)}}`, the stored facts its
  handler of that type decides from (passed as keyword `facts`);
- optionally `LATE_FACTS`: the event types its closed cases still listen for (the handler gets
  them as keyword `listening`);
- optionally `EMPLOYER_CASES`: the event types about an enterprise that must reach the kind's
  cases registered under another key with the enterprise as `match["employer_id"]` (the handler
  gets them, open and listening, as keyword `employer_cases`: one look-up per batch, for rare
  topics only; the firehose never pays for it).
- optionally `CASE_ONLY`: the event types its handler only passes to cases already registered
  under the event's keys (open, or listening for the types in `LATE_FACTS`): with none of
  them it returns Ignores only — it never starts a case, rejects or fans out. A type every
  kind taking it declares so skips the handlers when the batch's look-up found no case for
  its keys (`streams.routing.CASE_ONLY_TYPES`: the contribution firehose).

`KindRoute.of(module)` checks those declarations once, at import, so a misspelt or mistyped one
fails the import rather than routing an event wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from streams.routes.commands import Handler


@dataclass(frozen=True)
class KindRoute:
    """One kind's routes as routing reads them (built from a module by `of`; tests build their
    own kinds directly)."""

    kind: str
    holds_shared_facts: bool
    routes: Mapping[str, Handler]
    fact_types: tuple[str, ...] = ()
    route_facts: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    late_facts: tuple[str, ...] = ()
    employer_cases: tuple[str, ...] = ()
    case_only: tuple[str, ...] = ()

    @classmethod
    def of(cls, module: ModuleType) -> KindRoute:
        """The declarations of a route module (see the module docstring), checked."""
        names = vars(module)

        def declared(name: str, default: Any, valid: Callable[[Any], bool]) -> Any:
            value = names.get(name, default)
            if not valid(value):
                raise TypeError(f"{module.__name__}.{name} is {value!r}: not what a route module declares")
            return value

        return cls(
            kind=declared("KIND", "", lambda v: isinstance(v, str) and v != ""),
            holds_shared_facts=declared("HOLDS_SHARED_FACTS", None, lambda v: isinstance(v, bool)),
            routes=declared("ROUTES", None, lambda v: isinstance(v, dict) and all(isinstance(t, str) and callable(h) for t, h in v.items())),
            fact_types=tuple(declared("FACT_TYPES", (), _strings)),
            route_facts=declared("ROUTE_FACTS", {}, _route_facts),
            late_facts=tuple(declared("LATE_FACTS", (), _strings)),
            employer_cases=tuple(declared("EMPLOYER_CASES", (), _strings)),
            case_only=tuple(declared("CASE_ONLY", (), _strings)),
        )


def _strings(value: Any) -> bool:
    return isinstance(value, (tuple, frozenset)) and all(isinstance(v, str) for v in value)


def _route_facts(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(event_type, str) and isinstance(by_key, dict) and all(isinstance(k, str) and isinstance(t, tuple) and _strings(t) for k, t in by_key.items())
        for event_type, by_key in value.items()
    )
