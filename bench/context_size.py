"""What a case's parameter context (`load_context`'s result, contracts/cases.py `CaseContext`)
costs, read from a committed history: the bytes of JSON its local-activity marker holds, and the
Python objects one parsed context keeps alive (tracemalloc over `--copies` contexts parsed from
those bytes, as the worker parses it, divided by their number).

    python -m bench.context_size tests/histories/hubei_graduate_grant_owed.json [--copies 100]
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

from google.protobuf.json_format import ParseDict
from temporalio.api.common.v1 import Payload

from contracts.cases import CaseContext
from contracts.temporal import DATA_CONVERTER


def context_payload(history: dict[str, Any]) -> dict[str, Any]:
    """The payload (JSON form) of the first local activity result that is a CaseContext."""
    for event in history["history"]["events"]:
        details = event.get("markerRecordedEventAttributes", {}).get("details", {})
        for payload in details.get("result", {}).get("payloads", []):
            doc = json.loads(base64.b64decode(payload["data"]))
            if isinstance(doc, dict) and "parameters" in doc:
                return dict(payload)
    raise SystemExit("no load_context result in this history")


def measure(path: Path, copies: int) -> dict[str, Any]:
    payload = ParseDict(context_payload(json.loads(path.read_text(encoding="utf-8"))), Payload())
    converter = DATA_CONVERTER.payload_converter
    converter.from_payloads([payload], [CaseContext])  # first-use costs (pydantic's validators) outside the count
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = [converter.from_payloads([payload], [CaseContext])[0] for _ in range(copies)]
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    held = sum(s.size_diff for s in after.compare_to(before, "filename"))
    context: CaseContext = kept[0]
    return {"history": path.name, "json_bytes": len(payload.data), "parameters": len(context.parameters.values),
            "scope": context.parameters.scope, "bytes_per_context": held // copies, "copies": copies}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("histories", nargs="+", type=Path)
    parser.add_argument("--copies", type=int, default=100)
    args = parser.parse_args(argv)
    for path in args.histories:
        print(json.dumps(measure(path, args.copies), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
