"""The demo's disbursement act (`jiuye demo`, after the cases have settled): the money reaches
the payees through the desk and `jiuye treasury-sim` (the labelled stand-in for the treasury).

1. The desk takes the run's due ledger rows; with no account yet, they wait (`awaiting_account`).
2. Every payee of the run registers an account (`payee.account_registered` on payees.accounts);
   the first payee's account number ends in 0, which the stand-in treats as closed.
3. That payee's payments come back `account_closed`; the payee then gives a new account
   (`payee.account_updated`), and the desk sends them again (new instruction id, same key).
4. Once nothing is in flight: per fund, what was instructed, settled, returned and re-sent.

Account numbers are made up for the demo and only ever shown by their last 4 characters.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import asyncpg

from console.service.labels import both, pad, yuan
from contracts.settings import Settings

OF_RUN = "position($1 in ledger_key) > 0"
QUIET_SECONDS = 6.0
CLOSED = "0"  # the stand-in's default --closed-suffix


def account_number(payee: str, closed: bool, version: int) -> str:
    digits = int(hashlib.sha256(f"{payee}#{version}".encode()).hexdigest()[:12], 16) % 10**12
    last = CLOSED if closed else "7"
    return f"6222{digits:012d}{last}"


def account_event(tag: str, n: int, payee: str, number: str, on: date, updated: bool) -> dict[str, object]:
    return {
        "specversion": "1.0", "id": f"{tag}-acct-{n:05d}", "source": "bank/demo",
        "type": "payee.account_updated" if updated else "payee.account_registered", "subject": payee,
        "time": f"{on.isoformat()}T09:00:00+08:00", "datacontenttype": "application/json",
        "data": {"payee": payee, "bank": "DEMO-BANK", "account_number": number, "holder_name": f"demo holder {n}",
                 "on": on.isoformat()},
    }


async def run(settings: Settings, tag: str, on: date, folder: Path, deadline: float, dead: Callable[[], bool]) -> str | None:
    """Acts 1–4; the reconciliation summary, or None (with the reason on stderr) if it did not
    come about before `deadline` or a process died."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        async def quiet(what: str, payee: str | None, done: Callable[[asyncpg.Record], bool]) -> asyncpg.Record | None:
            since, last = time.monotonic(), None
            while time.monotonic() < deadline and not dead():
                now = await conn.fetchrow(counts, tag, payee)
                if now != last:
                    since, last = time.monotonic(), now
                print(f"\rdemo: disbursement: {what}: {dict(now) if now else {}}   ", end="", file=sys.stderr)
                if now is not None and done(now) and time.monotonic() - since >= QUIET_SECONDS:
                    print(file=sys.stderr)
                    return now
                await asyncio.sleep(1)
            print(f"\ndemo: disbursement: {what} did not come about in time", file=sys.stderr)
            return None

        counts = f"""SELECT count(*) AS keys, count(*) FILTER (WHERE status = 'awaiting_account') AS awaiting,
                            count(*) FILTER (WHERE status = 'instructed') AS instructed,
                            count(*) FILTER (WHERE status = 'returned') AS returned,
                            count(*) FILTER (WHERE status = 'settled') AS settled
                       FROM disbursements WHERE {OF_RUN} AND ($2::text IS NULL OR payee = $2)"""
        if await quiet("the desk takes the due ledger rows", None, lambda r: r["keys"] > 0) is None:
            return None
        payees = [r["payee"] for r in await conn.fetch(f"SELECT DISTINCT payee FROM disbursements WHERE {OF_RUN} ORDER BY payee", tag)]
        closed = payees[0]
        await _emit(settings, folder, tag, [account_event(tag, n, p, account_number(p, p == closed, 1), on, False)
                                            for n, p in enumerate(payees, start=1)])
        print(f"demo: disbursement: {len(payees)} payees registered an account; {closed}'s ends in {CLOSED} (closed)",
              file=sys.stderr)
        if await quiet(f"{closed}'s payments come back", closed, lambda r: r["returned"] == r["keys"]) is None:
            return None
        await _emit(settings, folder, tag, [account_event(tag, len(payees) + 1, closed, account_number(closed, False, 2), on, True)])
        print(f"demo: disbursement: {closed} updated the account", file=sys.stderr)
        if await quiet(f"{closed}'s payments are sent again and settle", closed, lambda r: r["settled"] == r["keys"]) is None:
            return None
        if await quiet("nothing in flight", None, lambda r: r["instructed"] == 0) is None:
            return None
        return await _summary(conn, tag, closed)
    finally:
        await conn.close()


async def _emit(settings: Settings, folder: Path, tag: str, events: list[dict[str, object]]) -> None:
    from app.emit import route_line
    from contracts.kafka import make_producer

    lines = [json.dumps(e, ensure_ascii=False) for e in events]
    with (folder / f"accounts-{tag}.jsonl").open("a", encoding="utf-8") as out:  # kept with the scenario
        out.writelines(line + "\n" for line in lines)
    producer = make_producer(settings, linger_ms=5)
    await producer.start()
    try:
        for line in lines:
            topic, key, _ = route_line(line.encode())
            await producer.send_and_wait(settings.topics.physical(topic), value=line.encode(), key=key)
    finally:
        await producer.stop()


async def _summary(conn: asyncpg.Connection, tag: str, closed: str) -> str:
    rows = await conn.fetch(
        """SELECT d.fund, count(*) AS instructed, sum(i.amount_fen)::bigint AS instructed_fen,
                   count(*) FILTER (WHERE i.result = 'settled') AS settled,
                   coalesce(sum(i.amount_fen) FILTER (WHERE i.result = 'settled'), 0)::bigint AS settled_fen,
                   count(*) FILTER (WHERE i.result = 'returned') AS returned,
                   coalesce(sum(i.amount_fen) FILTER (WHERE i.result = 'returned'), 0)::bigint AS returned_fen,
                   count(*) FILTER (WHERE i.attempt > 1) AS resent
              FROM payment_instructions i JOIN disbursements d USING (ledger_key)
             WHERE position($1 in d.ledger_key) > 0 GROUP BY 1 ORDER BY 1""", tag)
    waiting = await conn.fetchval(f"SELECT count(*) FROM disbursements WHERE {OF_RUN} AND status <> 'settled'", tag)
    lines = [f"disbursement reconciliation per fund / 按资金对账 (treasury-sim stand-in; {closed}'s first account was closed, "
             "then updated and re-sent):",
             "  " + pad("fund / 资金", 46) + "".join(pad(h, 24) for h in ("instructed 已发送", "settled 已结算", "returned 已退回"))
             + "re-sent 重新发送"]
    for r in rows:
        lines.append(f"  {pad(both('fund', r['fund']), 46)}"
                     f"{r['instructed']:>6} {yuan(r['instructed_fen']):>16} {r['settled']:>6} {yuan(r['settled_fen']):>16} "
                     f"{r['returned']:>6} {yuan(r['returned_fen']):>16} {r['resent']:>8}")
    lines.append(f"  keys not settled: {waiting}   (jiuye disbursement reconcile; the console's Disbursement view)")
    return "\n".join(lines)
