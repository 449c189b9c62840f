"""`jiuye forecast [--city C] [--fund F] [--year Y] [--today D] [--json] [--lang zh-CN|en]`: the
console's forecast view (console/service/forecast.py, POLICY.md part 2 §22) on the command line,
in the scope of `--token` (or the local operator, as the other console commands)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from console.service.labels import LANGS, Lang, name, yuan


def register(sub: Any) -> None:
    """The `forecast` subcommand (app/cli.py)."""
    parser = sub.add_parser(
        "forecast", help="per city and fund of a year: spend so far, forecast of the open cases, budget, run-out month",
        description="Per city and fund of a year (POLICY.md part 2 §22), from JIUYE_DATABASE_URL: spend so far "
        "(instructed and not returned, by instruction month up to --today), the forecast (the sum of the open "
        "cases' schedules from --today on, by due month), the budget (fund.budget_set) and the month spend plus "
        "forecast passes it — what a fund_shortfall alert names. Amounts in yuan.",
    )
    parser.add_argument("--city", help="one city (its code, e.g. 2101; a city token: its own)")
    parser.add_argument("--fund", help="one fund (its code, e.g. ui_fund)")
    parser.add_argument("--year", type=int, help="the budget year (default: --today's)")
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="where spend stops and the forecast starts (default: today)")
    parser.add_argument("--json", action="store_true", help="print JSON (amounts in fen)")
    parser.add_argument("--lang", choices=LANGS, default=LANGS[0], help="labels (default zh-CN)")
    parser.add_argument("--token", default=os.environ.get("JIUYE_CONSOLE_TOKEN"),
                        help="act as this console token (default: JIUYE_CONSOLE_TOKEN, else the local operator)")


def main(args: argparse.Namespace) -> int:
    from console.console_cli import refusals_exit_2

    return refusals_exit_2("forecast", _run(args))


async def _run(args: argparse.Namespace) -> int:
    from console.console_cli import console_session
    from console.service import forecast
    from contracts.settings import get_settings

    params = {k: v for k, v in (("city", args.city), ("fund", args.fund), ("year", args.year), ("today", args.today))
              if v is not None}
    async with console_session(get_settings(), args.token) as (console, who):
        result = await forecast(console, who, params)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else text(result, args.lang))
    return 0


def text(result: dict[str, Any], lang: Lang) -> str:
    """One block per city and fund: its totals, then the months that have spend or a forecast."""
    def t(term: str) -> str:
        return name("forecast", term, lang)

    if not result["funds"]:
        return f"{result['year']}: -"
    blocks = []
    for f in result["funds"]:
        budget = t("no_budget") if f["budget"] is None else f"{t('budget')} {yuan(f['budget'])}"
        outcome = "" if f["budget"] is None else (f"  {t('runs_out')} {f['runs_out']}" if f["runs_out"] else f"  {t('lasts')}")
        head = (f"{name('city', f['city'], lang)} {f['city']}  {name('fund', f['fund'], lang)}  {f['year']}  {budget}  "
                f"{t('spend')} {yuan(f['spend'])}  {t('forecast')} {yuan(f['forecast'])}  "
                f"{t('spend_and_forecast')} {yuan(f['spend_and_forecast'])}{outcome}")
        cols = (t("month"), t("spend"), t("forecast"))
        months = [(m["month"], yuan(m["spend"]), yuan(m["forecast"])) for m in f["months"] if m["spend"] or m["forecast"]]
        widths = [max(len(c), *(len(r[i]) for r in months)) if months else len(c) for i, c in enumerate(cols)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
        lines += ["  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True)))
                  for r in months]
        blocks.append(head + "\n" + "\n".join("  " + line for line in lines))
    return "\n\n".join(blocks)
