"""Fail a GPU run that proved nothing: read pytest report logs, count the `gpu` items by outcome.

    python tests/gpu/check_reports.py reports/*.jsonl

Exit status 0 only when at least one `gpu` item passed and none failed or errored. A GPU job
whose every item skipped (no CUDA, a missing library, a selection that matched nothing) is
green in pytest's eyes; this check makes it red, and prints what ran and why the rest skipped.
With ``--cpu`` it checks the opposite, for a machine without CUDA: gpu items were collected, and
every one skipped because CUDA is absent. The report logs are those of pytest-reportlog
(``--report-log``), one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def gpu_outcomes(paths: list[Path]) -> dict[str, tuple[str, str]]:
    """``{nodeid: (outcome, reason)}`` of every `gpu` item in the report logs.

    ``outcome`` is passed, failed, skipped or error (a failure outside the call phase); ``reason``
    is the skip reason or the first line of the failure. A missing file raises FileNotFoundError.
    """
    items: dict[str, tuple[str, str]] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            report = json.loads(line)
            if report.get("$report_type") != "TestReport" or "gpu" not in report.get("keywords", {}):
                continue
            node, when, outcome = report["nodeid"], report["when"], report["outcome"]
            longrepr = report.get("longrepr")
            if outcome == "skipped":
                reason = longrepr[2] if isinstance(longrepr, list) else str(longrepr)
                items[node] = ("skipped", reason.removeprefix("Skipped: "))
            elif outcome == "failed":
                text = longrepr if isinstance(longrepr, str) else json.dumps(longrepr)[:300]
                items[node] = ("failed" if when == "call" else "error", text.strip().splitlines()[0] if text.strip() else "")
            elif when == "call" and node not in items:
                items[node] = ("passed", "")
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="pytest-reportlog files (JSON lines)")
    parser.add_argument("--cpu", action="store_true",
                        help="a machine without CUDA: pass when every gpu item skipped for want of CUDA")
    args = parser.parse_args(argv)
    items = gpu_outcomes(args.reports)
    counts = Counter(outcome for outcome, _ in items.values())
    for node, (outcome, reason) in sorted(items.items()):
        print(f"{outcome:8} {node}" + (f"  ({reason})" if reason else ""))
    print(f"gpu items: {counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, "
          f"{counts['skipped']} skipped")
    if counts["failed"] or counts["error"]:
        return 1
    if args.cpu:
        others = [node for node, (outcome, reason) in items.items() if "needs a CUDA GPU" not in reason]
        if not items or others:
            print(f"expected every gpu item to skip for want of CUDA; not so: {others or 'no gpu item collected'}",
                  file=sys.stderr)
            return 1
        return 0
    if not counts["passed"]:
        print("no gpu item ran: this GPU run proved nothing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
