"""The console's /api routes: module-level handlers on one router, each translating HTTP to one
call of the service layer (`console.service`) and back. Query parameters are the models of
console/api/params.py; bodies are the models below."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from console import service
from console.api.deps import Ctx, Who
from console.api.params import (
    AlertParams,
    CaseParams,
    DashboardParams,
    DeadLetterParams,
    DisbursementParams,
    ForecastParams,
    LedgerParams,
    TaskParams,
)
from console.service import disbursement, proposals, quarantine
from console.service.labels import catalog
from console.service.tokens import dev_login as dev_login_token

router = APIRouter(prefix="/api")


class Decision(BaseModel):
    decision: dict[str, Any] = Field(description='What the task\'s rule takes, e.g. {"months": 6} (K10) or '
                                                 '{"approve": true, "reason": "..."} (K5)')


class HoldRequest(BaseModel):
    reason: str = Field(description="Why (recorded on the case's timeline and in the audit)")


class RedriveRequest(BaseModel):
    fixed: dict[str, Any] | None = Field(default=None, description="The corrected CloudEvent; omit to re-drive the original bytes")


class ProposalRequest(BaseModel):
    name: str = Field(description="A parameter of the policy pack, e.g. internship.monthly_subsidy")
    value: Any = Field(description="Its new value: fen as a whole number, a ratio as [n, d], a date as YYYY-MM-DD")
    city: str | None = Field(default=None, description="The city (21xx); null = province-wide")
    effective_on: date = Field(description="First day it applies; a past date corrects what was paid")


class ProposalDecision(BaseModel):
    reason: str | None = None


class PreviewRequest(BaseModel):
    until: date | None = Field(default=None, description="Last business date to run (YYYY-MM-DD); default today")


class DevLogin(BaseModel):
    sub: str
    role: str
    city: str | None = None


def error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


@router.get("/me", tags=["session"], summary="Who the token says you are")
async def me(who: Who) -> dict[str, Any]:
    return {"sub": who.sub, "role": who.role, "city": who.city, "exp": who.exp,
            "may_act": who.may_act, "sees_personal_data": who.sees_personal_data}


@router.get("/labels", tags=["session"], summary="The names of kinds, statuses, programs, funds, cities, task and entry types in zh-CN and en")
async def labels(who: Who) -> dict[str, Any]:
    return catalog()


@router.get("/cases", tags=["cases"], summary="Find cases (paged, sortable, with a total)")
async def cases(c: Ctx, who: Who, q: Annotated[CaseParams, Query()]) -> dict[str, Any]:
    return await service.list_cases(c, who, q.given())


@router.get("/cases/{case_id:path}/timeline", tags=["cases"], summary="One case: state, timeline, tasks, payments, links")
async def case(c: Ctx, who: Who, case_id: str = PathParam(..., description="the business key, e.g. dibao/P1/2020-03")) -> dict[str, Any]:
    return await service.show_case(c, who, case_id)


@router.post("/cases/{case_id:path}/hold", tags=["actions"], summary="Hold a case's payments, with a reason")
async def hold(c: Ctx, who: Who, body: HoldRequest, case_id: str) -> dict[str, Any]:
    return await service.hold(c, who, case_id, "hold", body.reason)


@router.post("/cases/{case_id:path}/release", tags=["actions"], summary="Release a held case, with a reason")
async def release(c: Ctx, who: Who, body: HoldRequest, case_id: str) -> dict[str, Any]:
    return await service.hold(c, who, case_id, "release", body.reason)


@router.get("/tasks", tags=["tasks"], summary="The task inbox")
async def tasks(c: Ctx, who: Who, q: Annotated[TaskParams, Query()]) -> dict[str, Any]:
    return await service.list_tasks(c, who, q.given())


@router.post("/tasks/{task_id:path}/decide", tags=["tasks"], summary="Decide a task (Temporal update; the case's rule may refuse: 409)")
async def decide(c: Ctx, who: Who, task_id: str, body: Decision) -> dict[str, Any]:
    return await service.decide_task(c, who, task_id, body.decision)


@router.get("/dashboard", tags=["dashboard"], summary="Counts by city, kind and status; payments by fund and month; open tasks")
async def dashboard(c: Ctx, who: Who, q: Annotated[DashboardParams, Query()]) -> dict[str, Any]:
    return await service.dashboard(c, who, q.given())


@router.get("/forecast", tags=["dashboard"], summary="Per city and fund of a year: spend so far, the open cases' forecast, "
            "the budget and the month it runs out (§22)")
async def forecast(c: Ctx, who: Who, q: Annotated[ForecastParams, Query()]) -> dict[str, Any]:
    return await service.forecast(c, who, q.given())


@router.get("/alerts", tags=["dashboard"], summary="Monitoring and mass-unemployment alerts")
async def alerts(c: Ctx, who: Who, q: Annotated[AlertParams, Query()]) -> dict[str, Any]:
    return await service.list_alerts(c, who, q.given())


@router.get("/ledger.csv", tags=["actions"], summary="The ledger of a city for a month (due_on in the month), CSV")
async def ledger(c: Ctx, who: Who, q: Annotated[LedgerParams, Query()]) -> StreamingResponse:
    rows = await service.export_ledger(c, who, q.city, q.month)
    name = f"ledger-{q.city or who.city}-{q.month}.csv"
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/deadletters", tags=["actions"], summary="Rejected input records (province only)")
async def deadletters(c: Ctx, who: Who, q: Annotated[DeadLetterParams, Query()]) -> dict[str, Any]:
    return await service.list_dead_letters(c, who, q.given())


@router.post("/deadletters/{dead_letter_id}/redrive", tags=["actions"], summary="Re-emit a dead letter (optionally corrected) to its topic")
async def redrive(c: Ctx, who: Who, dead_letter_id: int, body: Annotated[RedriveRequest | None, Body()] = None) -> dict[str, Any]:
    return await service.redrive(c, who, dead_letter_id, body.fixed if body else None)


class QuarantineDecision(BaseModel):
    reason: str = Field(description="Why (recorded in the audit, shown on the case's timeline)")


@router.post("/quarantine/{quarantine_id}/redrive", tags=["actions"],
             summary="Offer an event a case refused again (same id), judged on the case as it is now (an intake refusal is "
                     "routed again, a refusal the case decided goes to its redrive update); 409 if refused again")
async def quarantine_redrive(c: Ctx, who: Who, quarantine_id: int, body: QuarantineDecision) -> dict[str, Any]:
    return await quarantine.redrive(c, who, quarantine_id, body.reason)


@router.post("/quarantine/{quarantine_id}/dismiss", tags=["actions"], summary="Close an event a case refused, delivering nothing")
async def quarantine_dismiss(c: Ctx, who: Who, quarantine_id: int, body: QuarantineDecision) -> dict[str, Any]:
    return await quarantine.dismiss(c, who, quarantine_id, body.reason)


@router.get("/audit", tags=["session"], summary="Recent audit rows in your scope")
async def audit(c: Ctx, who: Who) -> dict[str, Any]:
    return await service.list_audit(c, who)


@router.get("/disbursement/{view}", tags=["disbursement"], response_model=None,
            summary="Disbursement: batches | returned | awaiting | reconciliation | funds (format=csv for CSV)")
async def disbursement_view(c: Ctx, who: Who, q: Annotated[DisbursementParams, Query()],
                            view: str = PathParam(..., description=" | ".join(disbursement.VIEWS))) -> Any:
    if view not in disbursement.VIEWS:
        raise service.NotFound(f"no disbursement view {view!r}; one of {', '.join(disbursement.VIEWS)}")
    given = q.given()
    form = given.pop("format", "json")
    if form not in ("json", "csv"):
        raise service.BadRequest(f"format must be json or csv, not {form!r}")
    result = await disbursement.VIEWS[view](c, who, given)
    if form == "json":
        return result
    name = f"disbursement-{view}-{result.get('city') or 'province'}.csv"
    return Response(disbursement.as_csv(view, result), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/proposals", tags=["parameters"], summary="Parameter change proposals in your scope, newest first")
async def proposal_list(c: Ctx, who: Who, status: str | None = None) -> dict[str, Any]:
    return await proposals.list_proposals(c, who, status)


@router.get("/proposals/{proposal_id}", tags=["parameters"], summary="One proposal with its preview")
async def proposal(c: Ctx, who: Who, proposal_id: int) -> dict[str, Any]:
    return await proposals.show_proposal(c, who, proposal_id)


@router.post("/proposals", tags=["parameters"], summary="Propose a parameter change (checked against the pack; "
             "its preview: POST /api/proposals/{id}/preview or `jiuye parameter preview`)")
async def propose(c: Ctx, who: Who, body: ProposalRequest) -> dict[str, Any]:
    return await proposals.propose(c, who, body.name, body.value, body.city, body.effective_on)


# Before the decision route, whose `{decision}` would otherwise take "preview".
@router.post("/proposals/{proposal_id}/preview", tags=["parameters"],
             summary="Compute the proposal's preview from the live store (the events its cases have seen, "
             "through the cases' own workflows) and store it; the proposal's scope, audited")
async def preview_proposal(c: Ctx, who: Who, proposal_id: int,
                           body: Annotated[PreviewRequest | None, Body()] = None) -> dict[str, Any]:
    return await proposals.compute_preview(c, who, proposal_id, body.until if body else None)


@router.post("/proposals/{proposal_id}/{decision}", tags=["parameters"],
             summary="approve | reject (a second supervisor of the same scope) | withdraw (the proposer)")
async def decide_proposal(c: Ctx, who: Who, proposal_id: int, decision: str,
                          body: Annotated[ProposalDecision | None, Body()] = None) -> dict[str, Any]:
    return await proposals.decide(c, who, proposal_id, decision, body.reason if body else None)


@router.post("/dev/login", tags=["session"], summary="DEV ONLY: issue a token without one (JIUYE_CONSOLE_DEV_LOGIN)")
async def dev_login(c: Ctx, body: DevLogin) -> dict[str, Any]:
    return dev_login_token(c.settings, c.secret, sub=body.sub, role=body.role, city=body.city)
