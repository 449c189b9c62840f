"""`jiuye parameter propose|preview|approve|reject|withdraw|list|show`: parameter changes with a
preview and two pairs of eyes (POLICY.md part 2), over the console's service layer
(console/service/proposals.py), so the CLI refuses exactly as the API does. The preview runs the
cases' own workflows offline (app/parameter_preview.py) over an events file or the events
rebuilt from the live store (app/live_events.py), which is why this command lives in
`app` and not beside the console's other commands. Who acts: as console_cli's `acting_as`."""

from __future__ import annotations

import argparse
import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts.settings import get_settings


def _value(text: str) -> Any:
    """A JSON value (150000, [2, 3], "2020-12-31", true); a bare word is taken as text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    param = sub.add_parser("parameter", help="propose a policy parameter change, preview it by the cases' own rules, "
                           "and approve it by a second supervisor of the same scope (four eyes)")
    act = param.add_subparsers(dest="parameter_command", required=True, metavar="ACTION")

    def token(p: argparse.ArgumentParser) -> None:
        p.add_argument("--token", default=os.environ.get("JIUYE_CONSOLE_TOKEN"),
                       help="act as this console token (default: JIUYE_CONSOLE_TOKEN, else the local operator, province role)")
        p.add_argument("--json", action="store_true", help="print JSON")

    pr = act.add_parser("propose", help="propose a change (checked against the policy pack's parameters)")
    pr.add_argument("name", help="a parameter of policy/packs/liaoning-2020.toml, e.g. internship.monthly_subsidy")
    pr.add_argument("value", type=_value, help="its new value as JSON: fen as a whole number, a ratio as [n, d], a date as \"YYYY-MM-DD\"")
    pr.add_argument("--city", help="the city (21xx) it applies to; omitted = province-wide")
    pr.add_argument("--effective-on", type=date.fromisoformat, required=True, help="first day it applies (YYYY-MM-DD; a past date corrects)")
    token(pr)
    pv = act.add_parser("preview", help="compute a proposal's preview by running the cases' events through the cases' own "
                        "workflows with and without it (as `jiuye simulate`), and store it with the proposal; the events "
                        "are those the cases it reaches have seen, from the live store (inbox and Kafka at their "
                        "offsets only, the count of records read shown; contributions from contribution_facts), or --events")
    pv.add_argument("id", type=int)
    pv.add_argument("--events", type=Path, help="JSONL file of the CloudEvents the cases have seen "
                    "(default: rebuilt from the live store, as the console's \"compute preview\")")
    pv.add_argument("--until", type=date.fromisoformat, help="last business date to run (YYYY-MM-DD; default today, the business "
                    "clock's with JIUYE_BUSINESS_DATE; from the live store today or later, as the change reaches "
                    "the cases when approved)")
    token(pv)
    for name, text in (("approve", "approve (a second supervisor of the proposal's scope; emits policy.parameter.changed)"),
                       ("reject", "reject (a second supervisor of the proposal's scope)"),
                       ("withdraw", "withdraw your own proposal")):
        d = act.add_parser(name, help=text)
        d.add_argument("id", type=int)
        d.add_argument("--reason")
        token(d)
    ls = act.add_parser("list", help="proposals in your scope, newest first")
    ls.add_argument("--status", choices=("proposed", "approved", "rejected", "withdrawn"))
    token(ls)
    sh = act.add_parser("show", help="one proposal with its preview")
    sh.add_argument("id", type=int)
    token(sh)


def main(args: argparse.Namespace) -> int:
    from console.console_cli import refusals_exit_2

    return refusals_exit_2("parameter", _run(args))


async def _run(args: argparse.Namespace) -> int:
    from console.console_cli import console_session
    from console.console_cli import print_result as _print
    from console.service import proposals as service

    settings = get_settings()
    async with console_session(settings, args.token) as (console, who):
        action = args.parameter_command
        result: dict[str, Any]
        if action == "propose":
            result = await service.propose(console, who, args.name, args.value, args.city, args.effective_on)
        elif action == "preview" and args.events is None:
            from app.parameter_preview import live_previewer

            console.previewer = live_previewer(settings)
            result = await service.compute_preview(console, who, args.id, args.until)
        elif action == "preview":
            from app.parameter_preview import preview
            from policy.calendar import SHANGHAI, business_date
            from streams.app import business_clock_offset

            proposal = await service.show_proposal(console, who, args.id)
            today = business_date(datetime.now(SHANGHAI) + timedelta(seconds=business_clock_offset(settings)))
            shown = await preview(args.events, proposal["name"], proposal["value"], proposal["city"],
                                  date.fromisoformat(proposal["effective_on"]), args.until or today)
            result = await service.attach_preview(console, who, args.id, shown)
        elif action in ("approve", "reject", "withdraw"):
            result = await service.decide(console, who, args.id, action, args.reason)
        elif action == "list":
            listed = await service.list_proposals(console, who, args.status)
            _print(args, listed, lambda v: "\n".join(describe(r, brief=True) for r in v["items"]) or "no proposals")
            return 0
        else:
            result = await service.show_proposal(console, who, args.id)
        _print(args, result, describe)
        return 0


def describe(p: dict[str, Any], brief: bool = False) -> str:
    head = (f"#{p['id']} {p['status']}: {p['name']} = {json.dumps(p['value'])} in {p['city'] or 'the province'} "
            f"from {p['effective_on']} (proposed by {p['proposer']}"
            + (f", {p['status']} by {p['decided_by']}" if p.get("decided_by") else "") + ")")
    shown = p.get("preview")
    if brief or not shown:
        return head + ("" if brief else "\n  no preview yet")
    lines = [head, f"  cases touched: {shown['cases_touched']} of {shown['cases_seen']}; "
                   f"difference {shown['total_difference'] / 100:,.2f} yuan; corrections: {len(shown['corrections'])}"]
    if "records_read" in shown:
        lines.append(f"  from the live store: {shown['events']} events, {shown['records_read']} records read from Kafka")
    lines += [f"  {r['month']} {r['fund']:<28} {r['before'] / 100:>12,.2f} → {r['after'] / 100:>12,.2f} yuan"
              for r in shown["by_month_and_fund"]]
    return "\n".join(lines)
