"""faust's own ceiling on this machine: an agent that does nothing but take records the way the
intake does (`noack_take`) and ack them. The filter benchmark runs it side by side with the
intake and the bare aiokafka consumer, so the figures show how much of the intake's time is
faust's per-record delivery and how much is the intake's own work.

Run as a subprocess (faust wants its own event loop and worker):
    python -m bench.faust_ceiling --group G --topic T --count N
The group's offsets must already point at the first record to read. Prints one JSON line:
{"records": N, "seconds": s, "rate": r}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from typing import cast

import faust


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faust_ceiling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", required=True, help="consumer group, positioned by the caller")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True, help="records to take before printing the rate")
    parser.add_argument("--bootstrap", default=os.environ.get("JIUYE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--batch-max", type=int, default=1000)
    parser.add_argument("--within-ms", type=int, default=20)
    args = parser.parse_args(argv)

    app = faust.App(
        args.group,
        broker="kafka://" + args.bootstrap,
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        web_enabled=False,
        topic_disable_leader=True,
        stream_wait_empty=False,
        datadir=tempfile.mkdtemp(prefix="faust-ceiling-"),
        autodiscover=False,
    )
    topic = app.topic(args.topic, value_serializer="raw", key_serializer="raw")
    seen = {"records": 0, "started": 0.0}

    async def empty_agent(stream: faust.StreamT[bytes]) -> None:
        # faust annotates noack_take as yielding values; it yields the events (to ack them).
        batches = cast("AsyncIterator[Sequence[faust.EventT[bytes]]]",
                       cast(faust.Stream[bytes], stream).noack_take(args.batch_max, within=args.within_ms / 1000))
        async for events in batches:
            if not seen["started"]:
                seen["started"] = time.perf_counter()
            for event in events:
                await stream.ack(event)
            seen["records"] += len(events)
            if seen["records"] >= args.count:
                seconds = time.perf_counter() - seen["started"]
                print(json.dumps({"records": seen["records"], "seconds": round(seconds, 3),
                                  "rate": round(seen["records"] / seconds)}), flush=True)
                sys.stdout.flush()
                os._exit(0)  # the figure is out; faust's orderly shutdown takes seconds

    app.agent(topic, name="ceiling")(empty_agent)
    worker = faust.Worker(app, loglevel="warning", quiet=True, override_logging=False)
    worker.spinner = None
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
