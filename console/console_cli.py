"""The console's commands — `jiuye case|task|alert|ledger|deadletter|token|api` — over the same
service layer as the HTTP API (`console.service`), so both answer and refuse alike.

Who the CLI acts as: the token in `--token` or `JIUYE_CONSOLE_TOKEN` when given (checked like
an API request); without one, the operator on this machine, who already holds the database and
Temporal credentials, as `cli:<user>` with the province role — still audited under that name.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from console.service import case_texts
from console.service.labels import DEFAULT_LANG, LANGS, MONEY_DETAILS, Lang, pad, yuan
from console.service.labels import name as label
from contracts.settings import Settings, get_settings

if TYPE_CHECKING:
    from console.service.core import Previewer

COMMANDS = ("case", "task", "alert", "ledger", "deadletter", "token", "api", "dashboard")


def _token_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token", default=os.environ.get("JIUYE_CONSOLE_TOKEN"),
                        help="act as this console token (default: JIUYE_CONSOLE_TOKEN, else the local operator)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the console's sub-commands to `jiuye`."""
    case = sub.add_parser("case", help="find and inspect cases; hold and release their payments; re-drive or dismiss "
                                       "the events a case refused")
    case_sub = case.add_subparsers(dest="case_command", required=True, metavar="ACTION")
    show = case_sub.add_parser("show", help="one case: live state, timeline, tasks, payments and their disbursement, "
                                              "the events it refused (quarantined)")
    show.add_argument("case_id")
    show.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG,
                      help="language of the text: the timeline's notes and rules, the details' keys and the names of codes "
                           "(default zh-CN; --json gives the recorded texts with their readings in both)")
    _token_arg(show)
    lst = case_sub.add_parser("list", help="cases from the read model (filters as the API's /api/cases)")
    for name in ("kind", "city", "status", "person", "enterprise", "opened-from", "opened-to", "closed-from",
                 "closed-to", "deadline-from", "deadline-to", "has-open-task", "sort"):
        lst.add_argument(f"--{name}")
    lst.add_argument("--limit", default="50")
    lst.add_argument("--offset", default="0")
    _token_arg(lst)
    for action, helptext in (("hold", "hold the case's payments (a supervisor hold), with a reason"),
                             ("release", "release the hold, with a reason")):
        p = case_sub.add_parser(action, help=helptext)
        p.add_argument("case_id")
        p.add_argument("--reason", required=True)
        _token_arg(p)
    for action, helptext in (("redrive", "offer an event the case refused (its quarantine id, `case show`) again, judged "
                                         "on the case as it is now (refused by the intake: routed again; refused by the "
                                         "case itself: offered to it by its redrive update); refused again, it stays "
                                         "quarantined"),
                             ("dismiss", "close an event the case refused, delivering nothing")):
        p = case_sub.add_parser(action, help=helptext)
        p.add_argument("quarantine_id", type=int, help="the id `case show` lists under 'quarantined events'")
        p.add_argument("--reason", required=True)
        _token_arg(p)

    task = sub.add_parser("task", help="the supervisors' task inbox")
    task_sub = task.add_subparsers(dest="task_command", required=True, metavar="ACTION")
    tl = task_sub.add_parser("list", help="tasks (default: open ones)")
    for name in ("state", "kind", "city", "case-id"):
        tl.add_argument(f"--{name}")
    tl.add_argument("--limit", default="50")
    _token_arg(tl)
    td = task_sub.add_parser("decide", help="decide a task (the case's rule, or the disbursement desk's, may refuse)")
    td.add_argument("task_id")
    td.add_argument("decision", help='JSON object, e.g. \'{"months": 6}\'; a disbursement task takes '
                    '\'{"action": "reinstruct"}\' and the others of docs/CONSOLE.md, "Disbursement"')
    _token_arg(td)

    alert = sub.add_parser("alert", help="monitoring alerts")
    alert_sub = alert.add_subparsers(dest="alert_command", required=True, metavar="ACTION")
    al = alert_sub.add_parser("list", help="alerts, newest first")
    al.add_argument("--city")
    al.add_argument("--kind")
    al.add_argument("--limit", default="100")
    _token_arg(al)

    dash = sub.add_parser("dashboard", help="counts by city, kind and status; payments by fund and month")
    dash.add_argument("--city")
    _token_arg(dash)

    ledger = sub.add_parser("ledger", help="the payment ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    le = ledger_sub.add_parser("export", help="CSV of a city's payments due in a month (to stdout)")
    le.add_argument("--city", required=True)
    le.add_argument("--month", required=True, help="YYYY-MM")
    _token_arg(le)

    dl = sub.add_parser("deadletter", help="rejected input records")
    dl_sub = dl.add_subparsers(dest="deadletter_command", required=True, metavar="ACTION")
    dll = dl_sub.add_parser("list", help="dead letters not yet re-driven (--all for every one)")
    dll.add_argument("--all", action="store_true")
    _token_arg(dll)
    dlr = dl_sub.add_parser("redrive", help="re-emit one to its topic, optionally corrected")
    dlr.add_argument("id", type=int)
    dlr.add_argument("--fixed", help="file with the corrected CloudEvent (JSON)")
    _token_arg(dlr)

    tok = sub.add_parser("token", help="console tokens")
    tok_sub = tok.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    ti = tok_sub.add_parser("issue", help="print a signed token (JIUYE_CONSOLE_SECRET)")
    ti.add_argument("--role", required=True, choices=("province", "city_supervisor", "auditor"))
    ti.add_argument("--city")
    ti.add_argument("--sub", required=True)
    ti.add_argument("--ttl-hours", type=float, default=8.0)

    sub.add_parser("api", help="serve the console: HTTP API, OpenAPI (/docs) and the web page, and /metrics, "
                   "/healthz/live and /healthz/ready on the same port")


def run(args: argparse.Namespace, previewer: Previewer | None = None) -> int:
    """Run one console command; service refusals print their reason and exit 2. `previewer`: the
    preview engine the entry point hands the served console (`jiuye api`)."""
    from console.service import ServiceError

    settings = get_settings()
    if args.command == "api":
        from console.api.app import run_api

        print(f"console on http://{settings.console_host}:{settings.console_port}/ (OpenAPI at /docs)", file=sys.stderr)
        run_api(settings, previewer)
        return 0
    if args.command == "token":
        from console.service.tokens import console_secret, issue

        try:
            print(issue(console_secret(settings), sub=args.sub, role=args.role, city=args.city,
                        ttl_seconds=int(args.ttl_hours * 3600)))
        except ServiceError as exc:
            print(f"jiuye token: {exc.reason}", file=sys.stderr)
            return 2
        return 0
    return refusals_exit_2(args.command, _with_console(settings, args))


def refusals_exit_2(command: str, work: Coroutine[Any, Any, int]) -> int:
    """Run a command's work; a service refusal prints `jiuye <command>: <reason> (<status>)` and
    exits 2, as every console command does."""
    from console.service import ServiceError

    try:
        return asyncio.run(work)
    except ServiceError as exc:
        print(f"jiuye {command}: {exc.reason} ({exc.status})", file=sys.stderr)
        return 2


@asynccontextmanager
async def console_session(settings: Settings, token: str | None) -> AsyncIterator[tuple[Any, Any]]:
    """A console on a small pool of the stack's database, and who acts in it (`acting_as`); the
    pool is closed when the command is done."""
    from activities.pg_store import create_pool
    from console.service import Console

    pool = await create_pool(settings.database_url, 2)
    try:
        console = Console(settings=settings, pool=pool)
        yield console, acting_as(console, token)
    finally:
        await pool.close()


async def _with_console(settings: Settings, args: argparse.Namespace) -> int:
    async with console_session(settings, args.token) as (console, who):
        return await _HANDLERS[(args.command, _action(args))](console, who, args)


def acting_as(console: Any, token: str | None) -> Any:
    """The principal of a command: its token's, else the local operator (the module's docstring)."""
    from console.service import Principal

    if token:
        return console.authenticate(token)
    return Principal(sub=f"cli:{getpass.getuser()}", role="province", city=None, exp=int(time.time()) + 3600)


def _action(args: argparse.Namespace) -> str:
    return getattr(args, f"{args.command}_command", "") or ""


def print_result(args: argparse.Namespace, value: Any, text: Callable[[Any], str]) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2) if args.json else text(value))


def _opts(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, str]:
    return {n: getattr(args, n) for n in names if getattr(args, n, None) not in (None, "")}


async def _case_list(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    names = ("kind", "city", "status", "person", "enterprise", "opened_from", "opened_to", "closed_from", "closed_to",
             "deadline_from", "deadline_to", "has_open_task", "sort", "limit", "offset")
    result = await service.list_cases(console, who, _opts(args, names))
    columns = ["case_id", "kind", "city", "status", "opened_on", "closed_on", "next_deadline", "open_tasks"]
    print_result(args, result, lambda r: f"{r['total']} case(s)\n" + table(r["items"], columns))
    return 0


async def _case_show(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    print_result(args, await service.show_case(console, who, args.case_id), lambda shown: describe_case(shown, args.lang))
    return 0


async def _case_hold(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    result = await service.hold(console, who, args.case_id, args.case_command, args.reason)
    print_result(args, result, lambda r: f"{r['case_id']}: " + (f"held by {r['hold']['by']} since {r['hold']['since']}" if r["hold"] else "released"))
    return 0


async def _case_quarantine(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console.service import quarantine

    decide = quarantine.redrive if args.case_command == "redrive" else quarantine.dismiss
    result = await decide(console, who, args.quarantine_id, args.reason)
    print_result(args, result, lambda r: f"quarantined event {r['id']} of {r['case_id']}: {r['status']}"
           + (f" ({r['detail']})" if r.get("detail") else ""))
    return 0


async def _task_list(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    result = await service.list_tasks(console, who, _opts(args, ("state", "kind", "city", "case_id", "limit")))
    print_result(args, result, lambda r: f"{r['total']} task(s)\n" + table(r["items"], ["task_id", "kind", "city", "due_on", "state", "decided_by"]))
    return 0


async def _task_decide(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service
    from console.service import BadRequest

    try:
        decision = json.loads(args.decision)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"decision is not JSON: {exc}") from None
    result = await service.decide_task(console, who, args.task_id, decision)
    print_result(args, result, lambda r: f"{r['task_id']}: {r['state']} by {r['decided_by']}: {json.dumps(r['decision'], ensure_ascii=False)}")
    return 0


async def _alert_list(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    result = await service.list_alerts(console, who, _opts(args, ("city", "kind", "limit")))
    print_result(args, result, lambda r: table(r["items"], ["on_date", "city", "kind", "alert_id"]) or "no alerts")
    return 0


async def _dashboard(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    result = await service.dashboard(console, who, _opts(args, ("city",)))
    print_result(args, result, lambda r: table(r["cases"], ["city", "kind", "status", "n"]) + "\n\n"
                 + table(r["payments"], ["month", "fund", "amount_fen", "n"]))
    return 0


async def _ledger_export(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    rows = await service.export_ledger(console, who, args.city, args.month)
    async for chunk in rows:
        sys.stdout.write(chunk)
    return 0


async def _deadletter_list(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service

    result = await service.list_dead_letters(console, who, {"pending": "false" if args.all else "true"})
    print_result(args, result, lambda r: table(r["items"], ["id", "topic", "received_at", "redriven_at", "reason"]) or "no dead letters")
    return 0


async def _deadletter_redrive(console: Any, who: Any, args: argparse.Namespace) -> int:
    from console import service
    from console.service import BadRequest

    fixed = None
    if args.fixed:
        try:
            with open(args.fixed, encoding="utf-8") as f:
                fixed = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise BadRequest(f"--fixed: {exc}") from None
    result = await service.redrive(console, who, args.id, fixed)
    print_result(args, result, lambda r: f"dead letter {r['id']} re-driven to {r['topic']} ({r['source']} #{r['event_id']})")
    return 0


_HANDLERS: dict[tuple[str, str], Callable[[Any, Any, argparse.Namespace], Awaitable[int]]] = {
    ("case", "list"): _case_list,
    ("case", "show"): _case_show,
    ("case", "hold"): _case_hold,
    ("case", "release"): _case_hold,
    ("case", "redrive"): _case_quarantine,
    ("case", "dismiss"): _case_quarantine,
    ("task", "list"): _task_list,
    ("task", "decide"): _task_decide,
    ("alert", "list"): _alert_list,
    ("dashboard", ""): _dashboard,
    ("ledger", "export"): _ledger_export,
    ("deadletter", "list"): _deadletter_list,
    ("deadletter", "redrive"): _deadletter_redrive,
}


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return ""
    widths = {c: max(len(c), *(len(str(r.get(c) if r.get(c) is not None else "")) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r.get(c) if r.get(c) is not None else "").ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


# The headings of `jiuye case show` in Chinese (its default); English keeps the words it always printed.
CASE_SHOW_WORDS: dict[str, str] = {
    "city": "城市", "status": "状态", "held": "暂停", "opened": "立案", "closed": "结案", "deadline": "下一期限",
    "no_state": "（无实时流程状态：{why}；时间线取自读模型）", "not_asked": "未查询", "details": "详情", "timeline": "时间线",
    "event": "事件",
}


def _detail_zh(key: str, value: Any) -> str:
    """A case detail as people read it: an amount in fen (labels.MONEY_DETAILS) in 元, a date as
    written, a list or mapping as JSON."""
    if key in MONEY_DETAILS and isinstance(value, int) and not isinstance(value, bool):
        return yuan(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else case_texts.day(str(value))


def describe_case(shown: dict[str, Any], lang: Lang = DEFAULT_LANG) -> str:
    """`jiuye case show` as text: in Chinese the notes and rules by their readings
    (console/service/case_texts.py), codes and details keys by their names, amounts in 元 and
    dates as people write them; in English the case's own words."""
    if lang == "en":
        return _describe_case_en(shown)
    case = shown["case"]
    w = CASE_SHOW_WORDS
    held = f"  {w['held']}（{case['hold']['by']}）：{case['hold']['reason']}" if case.get("hold") else ""
    out = [
        f"{case['case_id']}  {label('kind', case['kind'])}  {w['city']} {label('city', case['city'])}  "
        f"{w['status']} {label('status', case['status'])}{held}",
        f"{w['opened']} {case_texts.day(str(case['opened_on'] or '-'))}  {w['closed']} {case_texts.day(str(case['closed_on'] or '-'))}  "
        f"{w['deadline']} {case_texts.day(str(case['next_deadline'] or '-'))}",
        f"temporal: {shown['links']['temporal']}",
    ]
    if not shown.get("state"):
        out.append(w["no_state"].format(why=shown.get("state_unavailable") or w["not_asked"]))
    details = (shown.get("state") or {}).get("details") or case.get("summary") or {}
    if details:
        out.append(f"{w['details']}：" + "，".join(
            f"{case_texts.detail_key(k)} {_detail_zh(k, v)}"
            for k, v in details.items()))
    out.append(f"{w['timeline']}：")
    for entry in shown["timeline"]:
        money = f"  {yuan(entry['amount'])}" if entry.get("amount") else ""
        rule = f"  【{case_texts.read(entry['rule'])}】" if entry.get("rule") else ""
        event = f"  （{w['event']} {entry['event']['source']} #{entry['event']['id']}）" if entry.get("event") else ""
        out.append(f"  {case_texts.day(str(entry['on']))}  {pad(label('entry_type', entry['type']), 10)} "
                   f"{case_texts.read(entry['what'])}{money}{rule}{event}")
    out += _describe_case_rest(shown, lang)
    return "\n".join(out)


def _describe_case_en(shown: dict[str, Any]) -> str:
    case = shown["case"]
    out = [
        f"{case['case_id']}  {case['kind']}  city {case['city']}  status {case['status']}"
        + (f"  HELD by {case['hold']['by']}: {case['hold']['reason']}" if case.get("hold") else ""),
        f"opened {case['opened_on']}  closed {case['closed_on'] or '-'}  next deadline {case['next_deadline'] or '-'}",
        f"temporal: {shown['links']['temporal']}",
    ]
    if not shown.get("state"):
        out.append(f"(no live workflow state: {shown.get('state_unavailable') or 'not asked'}; timeline from the read model)")
    details = (shown.get("state") or {}).get("details") or case.get("summary") or {}
    if details:
        out.append("details: " + ", ".join(f"{k} {json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v}"
                                           for k, v in details.items()))
    out.append("timeline:")
    for entry in shown["timeline"]:
        money = f"  {entry['amount'] / 100:.2f} yuan" if entry.get("amount") else ""
        rule = f"  [{entry['rule']}]" if entry.get("rule") else ""
        event = f"  (event {entry['event']['source']} #{entry['event']['id']})" if entry.get("event") else ""
        out.append(f"  {entry['on']}  {entry['type']:<10} {entry['what']}{money}{rule}{event}")
    out += _describe_case_rest(shown, "en")
    return "\n".join(out)


def _describe_case_rest(shown: dict[str, Any], lang: Lang) -> list[str]:
    """Tasks, ledger rows and refused events; in Chinese with the names of codes and amounts in 元."""
    out: list[str] = []
    if lang != "en":
        if shown["tasks"]:
            out.append("任务：")
            out += [f"  {t['task_id']}  {label('task_type', t['kind'])}  期限 {case_texts.day(str(t['due_on'] or '-'))}  "
                    f"{label('task_state', t['state'])}" for t in shown["tasks"]]
        paid = f"，已付 {yuan(shown['paid_fen'])}" if shown.get("paid_fen") is not None else ""
        out.append(f"台账（净应付 {yuan(shown['owed_fen'])}{paid}）：")
        for p in shown["payments"]:
            corrects = f"  更正 {p['corrects']}" + (f" ← {p['cause']}" if p.get("cause") else "") if p.get("corrects") else ""
            d = p.get("disbursement")
            paid_out = (f"  【{label('disbursement_status', d['status'])}，第 {d['attempts']} 次"
                        + (f"，批次 {d['batch_id']}" if d.get("batch_id") else "") + "】" if d else "")
            out.append(f"  {case_texts.day(str(p['due_on']))}  {p['period']:<10} {pad(label('ledger_entry', p['entry']), 6)} "
                       f"{yuan(p['amount']):>14}  {label('fund', p['fund'])}  → {p['payee']}{corrects}{paid_out}")
        if shown.get("quarantined"):
            out.append("隔离事件（jiuye case redrive|dismiss ID --reason ...）：")
            for q in shown["quarantined"]:
                out.append(f"  {q['id']}  {pad(label('quarantine_status', q['status']), 12)} {label('event_type', q['type'])}  "
                           f"{q['source']} #{q['event_id']}：{q['reason']}"
                           + (f"  （{q['decided_by']}：{q['decision_reason']}）" if q.get("decided_by") else ""))
        return out
    if shown["tasks"]:
        out.append("tasks:")
        for t in shown["tasks"]:
            out.append(f"  {t['task_id']}  {t['kind']}  due {t['due_on'] or '-'}  {t['state']}")
    paid = f", paid {shown['paid_fen'] / 100:.2f} yuan" if shown.get("paid_fen") is not None else ""
    out.append(f"ledger (owed {shown['owed_fen'] / 100:.2f} yuan net{paid}):")
    for p in shown["payments"]:
        corrects = f"  corrects {p['corrects']}" + (f" ← {p['cause']}" if p.get("cause") else "") if p.get("corrects") else ""
        d = p.get("disbursement")
        paid_out = (f"  [{d['status']}, attempt {d['attempts']}" + (f", batch {d['batch_id']}" if d.get("batch_id") else "") + "]"
                    if d else "")
        out.append(f"  {p['due_on']}  {p['period']:<10} {p['entry']:<11} {p['amount'] / 100:>10.2f}  {p['fund']}  → {p['payee']}"
                   f"{corrects}{paid_out}")
    if shown.get("quarantined"):
        out.append("quarantined events (jiuye case redrive|dismiss ID --reason ...):")
        for q in shown["quarantined"]:
            out.append(f"  {q['id']}  {q['status']:<11} {q['type']}  {q['source']} #{q['event_id']}: {q['reason']}"
                       + (f"  ({q['decided_by']}: {q['decision_reason']})" if q.get("decided_by") else ""))
    return out
