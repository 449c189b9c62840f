"""`jiuye disbursement reconcile`: where the ledger's money stands (activities/disbursement_report.py);
`jiuye disbursement export`: a closed batch's pain.001 file for the treasury (activities/treasury_file.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any


def register(sub: Any) -> None:
    """The `disbursement` subcommand (app/cli.py)."""
    parser = sub.add_parser("disbursement", help="disbursement of the ledger: reconcile, export",
                            description="Disbursement of the ledger to the payees' accounts (POLICY.md part 2).")
    what = parser.add_subparsers(dest="disbursement_command", required=True, metavar="ACTION")
    rec = what.add_parser(
        "reconcile",
        help="per city and fund: the ledger keys settled, instructed, returned, waiting; every key not settled",
        description="Reconcile disbursement against the ledger in JIUYE_DATABASE_URL: per city and fund the "
        "keys and fen settled, instructed and unanswered, returned and waiting for an account; the due ledger "
        "rows not yet taken; open batches; and every key not settled, with its account masked (last 4).",
    )
    rec.add_argument("--city", help="one city (its code, e.g. 2101)")
    rec.add_argument("--json", action="store_true", help="print JSON")
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
    from activities.disbursement_report import reconcile, text
    from activities.disbursement_runner import business_clock
    from activities.pg_store import PgStore, create_pool
    from contracts.settings import get_settings

    async def run() -> str:
        settings = get_settings()
        pool = await create_pool(settings.database_url, 2)
        try:
            report = await reconcile(PgStore(pool), business_clock(settings)(), args.city)
        finally:
            await pool.close()
        return json.dumps(report.as_json(), ensure_ascii=False, indent=2) if args.json else text(report)

    print(asyncio.run(run()))
    return 0


def _export(args: argparse.Namespace) -> int:
    import os
    import sys
    from datetime import datetime, timezone

    from activities.account_vault import AccountVault
    from activities.pg_store import PgStore, create_pool
    from activities.treasury_file import BatchNotExportable, InvalidPaymentFile, payment_file
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
    except (BatchNotExportable, InvalidPaymentFile) as exc:
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
