"""Tests of tests/portability/compare_runs.py, which `nox -s portability` uses to show that an
item prints the same checked output in another run (shuffled order, another machine)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "portability"))
import compare_runs  # noqa: E402


def log(path: Path, printed: dict[str, str]) -> Path:
    lines = [{"$report_type": "TestReport", "nodeid": node, "when": "call", "outcome": "passed",
              "user_properties": [["printed", text], ["environment", {}]]} for node, text in printed.items()]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_identical_runs_pass_and_a_changed_digit_fails(tmp_path, capsys):
    first = log(tmp_path / "a.jsonl", {"docs/p.md::line-3": "loss 2.25\n", "snippets/s/x.py::x": "ok\n"})
    same = log(tmp_path / "b.jsonl", {"docs/p.md::line-3": "loss 2.25\n", "snippets/s/x.py::x": "ok\n"})
    assert compare_runs.main([str(first), str(same)]) == 0
    changed = log(tmp_path / "c.jsonl", {"docs/p.md::line-3": "loss 2.26\n", "snippets/s/x.py::x": "ok\n"})
    assert compare_runs.main([str(first), str(changed)]) == 1
    out = capsys.readouterr().out
    assert "docs/p.md::line-3: printed differently" in out and "+loss 2.26" in out


def test_items_whose_block_elides_text_are_not_compared(tmp_path):
    a = compare_runs.printed_by_item(log(tmp_path / "a.jsonl", {"n::x": "took 1.2 s\n"}))
    b = compare_runs.printed_by_item(log(tmp_path / "b.jsonl", {"n::x": "took 1.9 s\n"}))
    assert compare_runs.differences(a, b, elided={"n::x"}) == []
    assert len(compare_runs.differences(a, b, elided=set())) == 1


def test_elided_items_of_the_site_name_real_items():
    elided = compare_runs.elided_items(ROOT)
    for node in elided:
        path, _, name = node.partition("::")
        assert (ROOT / path).is_file(), node
        assert name.startswith("line-") or name == Path(path).stem, node
