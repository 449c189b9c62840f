"""The routing index's row: a case registered under one of its relevance keys, as the store
returns it (`Store.open_cases`) and the pure routes read it (streams/routing.py). It lives in
contracts so that routing, which decides from it, need not import the store that keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OpenCase:
    """A case under `key`, with the fields its kind matches events on (e.g. a loan id)."""

    case_id: str
    kind: str
    key: str
    match: dict[str, Any] = field(default_factory=dict)
    # Closed, but still taking late facts (POLICY.md part 2): routes see it apart from open ones.
    listening: bool = False
