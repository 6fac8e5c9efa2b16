"""Compare what two test runs printed, item by item: a checked output must not depend on the run.

    python tests/portability/compare_runs.py RUN_A.jsonl RUN_B.jsonl [more pairs...]

Each argument pair is two pytest report logs (``--report-log``) of the same items, for example a
normal run and one in shuffled order (``-p randomly``). The harness records, for every item that
has an output block, what the item printed (the ``printed`` user property of its call phase).
For each item in both logs whose output blocks hold no ``...`` (nothing elided, so every printed
character is checked), the two texts must be identical. Exit status 1 and one line per item
that differs, naming it, else 0. Items present in only one log are listed but do not fail.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path


def printed_by_item(report_log: Path) -> dict[str, str]:
    """``{nodeid: printed text}`` of the call phases in ``report_log`` that recorded one."""
    printed = {}
    for line in report_log.read_text().splitlines():
        report = json.loads(line)
        if report.get("$report_type") == "TestReport" and report.get("when") == "call":
            properties = dict(report.get("user_properties", []))
            if "printed" in properties:
                printed[report["nodeid"]] = properties["printed"]
    return printed


def differences(a: dict[str, str], b: dict[str, str], elided: set[str]) -> list[str]:
    """A message per item of both runs whose printed text differs; items in ``elided`` are not compared."""
    found = []
    for node in sorted(a.keys() & b.keys()):
        if node in elided or a[node] == b[node]:
            continue
        diff = "".join(list(difflib.unified_diff(a[node].splitlines(True), b[node].splitlines(True),
                                                 "first run", "second run", n=0))[:12])
        found.append(f"{node}: printed differently in the two runs\n{diff}")
    return found


def elided_items(root: Path) -> set[str]:
    """Node ids (``page.md::line-N`` or ``snippet.py::stem``) whose output blocks contain ``...``."""
    sys.path.insert(0, str(root / "tests"))
    from test_site import output_blocks  # noqa: E402  (page:line, text) of every output block

    elided = set()
    for where, text in output_blocks(root):
        if "..." not in text:
            continue
        page, line = where.rsplit(":", 1)
        lines = (root / page).read_text("utf8").splitlines()
        # The block follows a fence (item `page::line-N`) or a snippet include (item of that file).
        for i in range(int(line) - 2, -1, -1):
            opener = lines[i].strip()
            if "--8<--" in opener:
                target = opener.split('"')[1].split(":")[0]
                elided.add(f"{target}::{Path(target).stem}")
                break
            if opener.startswith("```") and not opener.endswith("```") or opener.startswith("```{.python") or opener == "```python":
                elided.add(f"{page}::line-{i + 1}")
                break
    return elided


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parents[2]
    elided, failures, compared = elided_items(root), [], 0
    for first, second in zip(argv[::2], argv[1::2]):
        a, b = printed_by_item(Path(first)), printed_by_item(Path(second))
        compared += len((a.keys() & b.keys()) - elided)
        failures += differences(a, b, elided)
        for node in sorted(a.keys() ^ b.keys()):
            print(f"only in one run: {node}")
    for failure in failures:
        print(failure)
    print(f"{compared} items with fully checked output compared, {len(failures)} differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
