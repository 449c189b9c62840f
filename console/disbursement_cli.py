"""`jiuye disbursement batches|returned|awaiting|reconcile [--csv]`: the console's disbursement
views (console/service/disbursement.py) on the command line, in the scope of `--token` (or the
local operator, as the other console commands: console/console_cli.py), and `reconcile`'s
ledger-side report (activities/disbursement_report.py); `jiuye disbursement export`: a closed
batch's pain.001 file for the treasury (activities/treasury_file.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

VIEWS = {
    "batches": ("batches", "the daily treasury batches per city, fund and day: count, total, closed?"),
    "returned": ("returned", "payments the treasury returned: key, payee, attempts, reason, last instruction, next step"),
    "awaiting": ("awaiting", "payments waiting for the payee's account: since, days waiting, task"),
    "reconcile": ("reconciliation", "per day, city and fund: instructed, settled, returned, in flight, re-sent, with "
                  "totals; then per city and fund where the ledger's money stands and every key not settled"),
}


def register(sub: Any) -> None:
    """The `disbursement` subcommand (app/cli.py)."""
    parser = sub.add_parser("disbursement", help="disbursement of the ledger: batches, returned, awaiting, reconcile, export",
                            description="Disbursement of the ledger to the payees' accounts (POLICY.md part 2), in "
                            "JIUYE_DATABASE_URL. Accounts are shown by their last 4 characters only.")
    what = parser.add_subparsers(dest="disbursement_command", required=True, metavar="ACTION")
    for name, (_, text) in VIEWS.items():
        view = what.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        view.add_argument("--city", help="one city (its code, e.g. 2101; a city token: its own)")
        form = view.add_mutually_exclusive_group()
        form.add_argument("--csv", action="store_true", help="print CSV (the columns of the console's export)")
        form.add_argument("--json", action="store_true", help="print JSON")
        view.add_argument("--token", default=os.environ.get("JIUYE_CONSOLE_TOKEN"),
                          help="act as this console token (default: JIUYE_CONSOLE_TOKEN, else the local operator)")
        if name in ("batches", "reconcile"):
            view.add_argument("--from", dest="from_", metavar="YYYY-MM-DD", help="from this day")
            view.add_argument("--to", metavar="YYYY-MM-DD", help="to this day")
        if name in ("returned", "awaiting"):
            view.add_argument("--today", metavar="YYYY-MM-DD", help="count days to this date (default: the business date)")
        if name == "batches":
            view.add_argument("--open", action="store_true", help="only batches not closed yet")

    export = what.add_parser(
        "export",
        help="a closed daily batch as an ISO 20022 pain.001 credit-transfer file for the treasury",
        description="Write the ISO 20022 pain.001.001.09 file of a closed daily batch (per city and fund) in "
        "JIUYE_DATABASE_URL: one credit transfer per instruction, its end-to-end id the instruction id, the "
        "payee's account number and holder name opened with the payload keyring (the file is the only place "
        "they are in clear: keep it for the treasury). The file is checked with pyiso20022's validation first; "
        "an open batch (its day not over) is refused.",
    )
    export.add_argument("--batch", required=True, help="the batch id (PB-<city>-<fund>-<yyyymmdd>)")
    export.add_argument("--out", help="write the file here (readable by its owner only) instead of printing it")


def main(args: argparse.Namespace) -> int:
    if args.disbursement_command == "export":
        return _export(args)
    from console.console_cli import refusals_exit_2

    return refusals_exit_2("disbursement", _show(args))


async def _show(args: argparse.Namespace) -> int:
    print(await _run(args))
    return 0


async def _run(args: argparse.Namespace) -> str:
    from activities.disbursement_report import reconcile, text
    from activities.disbursement_runner import business_clock
    from activities.pg_store import PgStore
    from console.console_cli import console_session, table
    from console.service import disbursement as views
    from contracts.settings import get_settings

    settings = get_settings()
    view = VIEWS[args.disbursement_command][0]
    params = {k: v for k, v in {"city": args.city, "from": getattr(args, "from_", None), "to": getattr(args, "to", None),
                                "today": getattr(args, "today", None),
                                "open": "true" if getattr(args, "open", False) else None}.items() if v}
    async with console_session(settings, args.token) as (console, who):
        result = await views.VIEWS[view](console, who, params)
        ledger = None
        if view == "reconciliation" and not args.csv:
            ledger = await reconcile(PgStore(console.pool), business_clock(settings)(), result["city"])
    if args.csv:
        return views.as_csv(view, result).rstrip("\n")
    if args.json:
        return json.dumps({**result, "ledger": ledger.as_json()} if ledger else result, ensure_ascii=False, indent=2)
    columns = list(views.COLUMNS[view])
    out = f"{len(result['items'])} row(s)\n" + table(result["items"], columns)
    if "totals" in result:
        out += "\ntotal: " + ", ".join(f"{k} {v}" for k, v in result["totals"].items())
    return out + ("\n\n" + text(ledger) if ledger else "")


def _export(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from activities.account_vault import AccountVault
    from activities.pg_store import PgStore, create_pool
    from activities.treasury_file import BatchNotExportable, InvalidPaymentFile, payment_file
    from contracts.codec import KeyringError, PayloadDecryptionError
    from contracts.settings import get_settings

    async def run() -> str:
        settings = get_settings()
        vault = AccountVault.from_settings(settings)
        pool = await create_pool(settings.database_url, 2)
        try:
            return (await payment_file(PgStore(pool), vault, args.batch, datetime.now(timezone.utc))).xml
        finally:
            await pool.close()

    try:
        xml = asyncio.run(run())
    # A missing or wrong keyring is an operator's error, said in one line (the messages name key
    # ids and payees, never an account number).
    except (BatchNotExportable, InvalidPaymentFile, KeyringError, PayloadDecryptionError) as exc:
        print(f"jiuye disbursement export: {exc}", file=sys.stderr)
        return 1
    if args.out is None:
        sys.stdout.write(xml)
        return 0
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(xml)
    print(f"{args.batch}: written to {args.out}")
    return 0
