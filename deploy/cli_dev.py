"""`jiuye dev up|down|status`: the local stack from the command line.

app/cli.py calls `register(subparsers)`; until then `python -m deploy.cli_dev up` works too.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from deploy import stack

_ALL_SERVICES = list(dict.fromkeys([*stack.SERVICES, *stack.cluster.SERVICES]))


def _service_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in _ALL_SERVICES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose from {','.join(_ALL_SERVICES)} (comma-separated)")
    return names


def _add_topology(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topology", choices=stack.TOPOLOGIES, default="single",
                        help="single (default): dev server on SQLite, one broker; cluster: the production "
                             "Temporal server on PostgreSQL, three Kafka nodes, two streams and two worker "
                             "processes, on ports from JIUYE_CLUSTER_PORT_BASE (deploy/README.md)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `dev` and its subcommands to `subparsers`; the parsed args carry `func=run`."""
    dev = subparsers.add_parser("dev", help="start, stop and inspect the local stack (Temporal, Kafka, PostgreSQL)",
                                description="The local stack: Temporal, Apache Kafka, PostgreSQL (and, on the cluster "
                                            "topology, our streams and worker processes).")
    actions = dev.add_subparsers(dest="dev_command", metavar="{up,down,status}", required=True)
    only_help = (f"comma-separated subset of {','.join(stack.SERVICES)} "
                 f"(cluster: {','.join(stack.cluster.SERVICES)})")
    up = actions.add_parser("up", help="start the stack and wait until it is healthy (idempotent)")
    up.add_argument("--only", type=_service_list, metavar="SERVICES", help=only_help)
    _add_topology(up)
    down = actions.add_parser("down", help="stop the stack; data stays")
    down.add_argument("--only", type=_service_list, metavar="SERVICES", help=only_help)
    _add_topology(down)
    status = actions.add_parser("status", help="show what runs where (each node and process on the cluster)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    _add_topology(status)
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
            stack.up(services=args.only, topology=args.topology)
            return 0
        if args.dev_command == "down":
            stack.down(services=args.only, topology=args.topology)
            return 0
        rows = stack.status(topology=args.topology)
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
    status: int = args.func(args)  # argparse's Namespace holds what `register` set: `run`
    return status


if __name__ == "__main__":
    sys.exit(main())
