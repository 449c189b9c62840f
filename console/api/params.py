"""The query parameters of the console's lists, declared once: each model is what FastAPI reads
from the query string (and what OpenAPI shows), and what the route hands the service layer.
A name the model does not declare is refused (400), not ignored. The formats the service
layer checks for API and CLI alike (dates, cities, sorts, ranges: console/service/queries.py)
arrive as the text given, so both answer with the same reason."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DATE = "YYYY-MM-DD"


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def given(self) -> dict[str, Any]:
        """The parameters the caller gave, by their query-string names."""
        return self.model_dump(exclude_none=True, by_alias=True)


class CaseParams(ListParams):
    kind: str | None = Field(None, description="a case kind (workflows.registry.KINDS)")
    city: str | None = Field(None, description="2101..2114")
    status: str | None = None
    person: str | None = Field(None, description="person id (P1 or person/P1)")
    enterprise: str | None = Field(None, description="enterprise id (E1 or enterprise/E1)")
    opened_from: str | None = Field(None, description=DATE)
    opened_to: str | None = Field(None, description=DATE)
    closed_from: str | None = Field(None, description=DATE)
    closed_to: str | None = Field(None, description=DATE)
    deadline_from: str | None = Field(None, description=DATE)
    deadline_to: str | None = Field(None, description=DATE)
    has_open_task: bool | None = None
    sort: str | None = Field(None, description="opened_on | next_deadline | case_id, prefix - for descending")
    limit: int | None = Field(None, description="1..200 (default 50)")
    offset: int | None = None


class TaskParams(ListParams):
    state: str | None = Field(None, description="open (default) | decided | expired | withdrawn | any")
    kind: str | None = None
    city: str | None = Field(None, description="2101..2114")
    case_id: str | None = None
    limit: int | None = Field(None, description="1..200 (default 50)")
    offset: int | None = None


class DashboardParams(ListParams):
    city: str | None = Field(None, description="2101..2114")
    from_: str | None = Field(None, alias="from", description=DATE)
    to: str | None = Field(None, description=DATE)
    today: str | None = Field(None, description=f"{DATE}, the day overdue is counted on (default: today)")


class ForecastParams(ListParams):
    city: str | None = Field(None, description="2101..2114")
    fund: str | None = Field(None, description="a fund code, e.g. ui_fund")
    year: int | None = Field(None, description="the budget year (default: today's)")
    today: str | None = Field(None, description=f"{DATE}, where spend stops and the forecast starts (default: today)")


class AlertParams(ListParams):
    city: str | None = Field(None, description="2101..2114")
    kind: str | None = Field(None, description="mass_unemployment | weekly_surge | headcount_drop | fund_shortfall | ...")
    limit: int | None = Field(None, description="1..1000 (default 100)")


class DeadLetterParams(ListParams):
    pending: bool | None = Field(None, description="only those not re-driven yet (default true)")
    limit: int | None = Field(None, description="1..1000 (default 100)")


class LedgerParams(ListParams):
    city: str | None = Field(None, description="2101..2114 (a city token: its own)")
    month: str | None = Field(None, description="YYYY-MM")


class DisbursementParams(ListParams):
    city: str | None = Field(None, description="2101..2114 (a city token: its own)")
    from_: str | None = Field(None, alias="from", description=f"{DATE} (batches, reconciliation, funds)")
    to: str | None = Field(None, description=f"{DATE} (batches, reconciliation, funds)")
    open: bool | None = Field(None, description="batches: only those not closed yet")
    today: str | None = Field(None, description=f"{DATE} (returned, awaiting): the day waiting is counted to "
                              "(default: the business date)")
    limit: int | None = None
    format: str | None = Field(None, description="json (default) | csv")
