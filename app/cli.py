"""The `jiuye` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import date
from pathlib import Path
from typing import Callable

from contracts.settings import get_settings


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jiuye",
        description="Case workflows for the Liaoning 2020 employment measures. "
        "Configuration comes from JIUYE_* environment variables (see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from deploy import cli_dev

    cli_dev.register(sub)

    from bench.cli import register as register_bench

    register_bench(sub)

    sub.add_parser(
        "worker",
        help="run the Temporal worker (every case kind, its activities, the outbox relay and the disbursement schedule)",
        description="Run the Temporal worker: every case kind, its activities, the outbox relay "
        "that publishes lifecycle events to cases.lifecycle, alerts to alerts and payment instructions to "
        "payments.instructions, and every JIUYE_DISBURSEMENT_INTERVAL_SECONDS the disbursement schedule "
        "(ledger rows due → payment instructions; retries, tasks, daily batches closed). It serves /metrics, "
        "/healthz/live and /healthz/ready on JIUYE_OBSERVABILITY_HOST:JIUYE_WORKER_HTTP_PORT, the Temporal "
        "SDK's metrics on JIUYE_WORKER_SDK_METRICS_PORT (0 = off), exports spans when "
        "JIUYE_OTEL_EXPORTER_OTLP_ENDPOINT is set, and on SIGTERM finishes the activities in hand "
        "(up to JIUYE_WORKER_GRACEFUL_SHUTDOWN_SECONDS) before it exits (docs/OBSERVABILITY.md).",
    )
    sub.add_parser(
        "streams",
        help="run the intake (Kafka → inbox → Temporal) as one member of its consumer group, and the monitoring counts",
        description="Run the intake as one member of the consumer group JIUYE_CONSUMER_GROUP (Kafka → validation "
        "→ inbox → routing → Temporal; offsets committed only after a batch was handled; start more processes "
        "to share the partitions, JIUYE_STREAMS_INSTANCE_ID for static membership) and the monitoring agent "
        "(counts per city per day and week in faust tables; weekly_surge and mass_unemployment alerts) and "
        "M2 on the contributions (headcount per enterprise and month counted from the stored contribution facts "
        "after each batch; headcount_drop alerts). "
        "SIGTERM finishes and commits the batches in hand, leaves the group and exits 0.",
    )

    sub.add_parser(
        "codec-server",
        help="decrypt payloads for the Temporal Web UI (development only)",
        description="Serve /decode and /encode for the Temporal Web UI (the dev server is started with "
        "--ui-codec-endpoint pointing here), so histories read in the UI show decrypted payloads. "
        "Listens on JIUYE_CODEC_SERVER_HOST:JIUYE_CODEC_SERVER_PORT (127.0.0.1:8234); refuses to run "
        "with JIUYE_ENV=production.",
    )

    from app.http_intake import register as register_http_intake

    register_http_intake(sub)

    emit = sub.add_parser("emit", help="produce the CloudEvents of a JSONL file to Kafka (one event a line)")
    emit.add_argument("file", type=_existing_file, help="JSONL file of CloudEvents")
    emit.add_argument("--topic", help="send every line to this topic instead of the topic of its type (a logical "
                      "name of EVENTS.md; JIUYE_TOPIC_PREFIX is put before it)")
    emit.add_argument("--no-progress", action="store_true", help="no progress bar")

    sim = sub.add_parser(
        "simulate",
        help="replay a scenario on Temporal's time-skipping server and print the outcome",
        description="Deliver the file's CloudEvents in time order through the production routing and "
        "workflows on Temporal's time-skipping test server, run the business clock to the end of "
        "--until, and print cases, payments, tasks, alerts and dead letters (EVENTS.md).",
    )
    sim.add_argument("file", type=_existing_file, help="JSONL file of CloudEvents")
    sim.add_argument("--until", type=_date, required=True, help="last business date to run (YYYY-MM-DD)")
    sim.add_argument("--json", action="store_true", help="print the EVENTS.md JSON object (default: a summary)")
    sim.add_argument("--progress", action="store_true", help="progress bar on stderr")

    from console import console_cli

    console_cli.register(sub)

    from app import treasury_sim

    treasury_sim.register(sub)

    from console import disbursement_cli

    disbursement_cli.register(sub)

    from app import parameter_cli

    parameter_cli.register(sub)

    from console import forecast_cli

    forecast_cli.register(sub)

    demo = sub.add_parser("demo", help="bring the stack up, run worker and streams, emit the demo scenario of the whole "
                          "province (every case kind, tasks, alerts), print a summary and where to look")
    demo.add_argument("--cases", type=int, default=70, help="generated internships (five per city) in the demo scenario (besides the committed scenarios)")
    demo.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the system to take the scenario and settle")
    demo.add_argument("--serve", action="store_true", help="afterwards keep worker and streams running and serve the console "
                      "(with its development sign-in) until Ctrl-C, to open the cases and decide the tasks")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose or args.command in ("worker", "streams", "http-intake") else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int] = _HANDLERS[args.command]
    try:
        code = handler(args)
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal SDK's native runtime can abort while the interpreter finalizes; everything
    # is flushed and closed by now, so leave without finalizing.
    os._exit(code)


def _dev(args: argparse.Namespace) -> int:
    from deploy import cli_dev

    return cli_dev.run(args)


def _worker(args: argparse.Namespace) -> int:
    from app.worker import run_worker

    asyncio.run(run_worker(get_settings()))
    return 0


def _streams(args: argparse.Namespace) -> int:
    from observability.tracing import configure_tracing
    from streams.app import run_streams

    # Before the app starts, so the intake's spans (and its Temporal client's) are exported.
    configure_tracing(get_settings(), "streams")

    run_streams(get_settings())
    return 0


def _emit(args: argparse.Namespace) -> int:
    from app.emit import emit

    report = asyncio.run(emit(args.file, get_settings(), progress=not args.no_progress, topic=args.topic))
    print(report.describe())
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from app.simulate import dumps, simulate, summary

    result = asyncio.run(simulate(args.file, args.until, progress=args.progress))
    print(dumps(result) if args.json else summary(result))
    return 0


def _console(args: argparse.Namespace) -> int:
    from console import console_cli

    if args.command == "api":  # the served console computes previews from the live store
        from app.parameter_preview import live_previewer

        return console_cli.run(args, live_previewer(get_settings()))
    return console_cli.run(args)


def _forecast(args: argparse.Namespace) -> int:
    from console import forecast_cli

    return forecast_cli.main(args)


def _codec_server(args: argparse.Namespace) -> int:
    from app.codec_server import serve

    return serve(get_settings())


def _http_intake(args: argparse.Namespace) -> int:
    from app.http_intake import run

    return run(args, get_settings())


def _treasury_sim(args: argparse.Namespace) -> int:
    from app import treasury_sim

    return treasury_sim.main(args)


def _disbursement(args: argparse.Namespace) -> int:
    from console import disbursement_cli

    return disbursement_cli.main(args)


def _parameter(args: argparse.Namespace) -> int:
    from app import parameter_cli

    return parameter_cli.main(args)


def _bench(args: argparse.Namespace) -> int:
    from bench.cli import run

    return run(args)


def _demo(args: argparse.Namespace) -> int:
    from app.demo import run_demo

    return run_demo(get_settings(), cases=args.cases, timeout=args.timeout, serve=args.serve)


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "dev": _dev,
    "worker": _worker,
    "streams": _streams,
    "emit": _emit,
    "simulate": _simulate,
    **{name: _console for name in ("case", "task", "alert", "ledger", "deadletter", "token", "api", "dashboard")},
    "demo": _demo,
    "forecast": _forecast,
    "bench": _bench,
    "codec-server": _codec_server,
    "http-intake": _http_intake,
    "treasury-sim": _treasury_sim,
    "disbursement": _disbursement,
    "parameter": _parameter,
}

if __name__ == "__main__":
    main()
