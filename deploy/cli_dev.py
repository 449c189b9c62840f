"""`jiuye dev up|down|status`: the local stack from the command line.

console/cli.py calls `register(subparsers)`; until then `python -m deploy.cli_dev up` works too.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from deploy import stack


def _service_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in stack.SERVICES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose from {','.join(stack.SERVICES)} (comma-separated)")
    return names


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `dev` and its subcommands to `subparsers`; the parsed args carry `func=run`."""
    dev = subparsers.add_parser("dev", help="start, stop and inspect the local stack (Temporal, Kafka, PostgreSQL)",
                                description="The local stack: Temporal dev server, Apache Kafka, PostgreSQL.")
    actions = dev.add_subparsers(dest="dev_command", metavar="{up,down,status}", required=True)
    only_help = f"comma-separated subset of {','.join(stack.SERVICES)}"
    up = actions.add_parser("up", help="start the stack and wait until it is healthy (idempotent)")
    up.add_argument("--only", type=_service_list, metavar="SERVICES", help=only_help)
    down = actions.add_parser("down", help="stop the stack; data stays")
    down.add_argument("--only", type=_service_list, metavar="SERVICES", help=only_help)
    status = actions.add_parser("status", help="show what runs where")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    dev.set_defaults(func=run)
    return dev


def _print_table(rows: list[stack.ServiceStatus]) -> None:
    table = [("SERVICE", "RUNNING", "ADDRESS", "PID", "DETAIL")]
    table += [(r.name, "yes" if r.running else "no", r.address, str(r.pid or "-"), r.detail) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)) + "  " + row[4])


def run(args: argparse.Namespace) -> int:
    """Execute a parsed `dev` command; the exit status is 0 when everything asked for is healthy."""
    try:
        if args.dev_command == "up":
            stack.up(services=args.only)
            return 0
        if args.dev_command == "down":
            stack.down(services=args.only)
            return 0
        rows = stack.status()
    except stack.StackError as exc:
        print(f"dev: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        _print_table(rows)
    return 0 if all(r.running for r in rows) else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.cli_dev")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dev", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
