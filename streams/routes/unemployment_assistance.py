"""K3 unemployment_assistance holds shared facts (a change of `ui.monthly_benefit` or `ua.*`
applies to its later months). Its cases are opened by K2 cases and its input routes live with
K2's in `streams/routes/unemployment.py`."""

from __future__ import annotations

from contracts import kinds
from streams.routes.commands import Handler

KIND = kinds.UNEMPLOYMENT_ASSISTANCE
HOLDS_SHARED_FACTS = True

ROUTES: dict[str, Handler] = {}
