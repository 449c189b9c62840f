"""`jiuye disbursement reconcile`: where the ledger's money stands (activities/disbursement_report.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any


def register(sub: Any) -> None:
    """The `disbursement` subcommand (app/cli.py)."""
    parser = sub.add_parser("disbursement", help="disbursement of the ledger: reconcile",
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


def main(args: argparse.Namespace) -> int:
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
