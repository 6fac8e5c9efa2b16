"""Tests of the GPU run's tools: the check that fails a GPU job in which no gpu item ran, the
offline script for a lent GPU machine (its CPU path), and the workflow that runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "gpu"))
import check_reports  # noqa: E402


def report_log(path: Path, items: dict[str, tuple[str, str]]) -> Path:
    """Write a pytest-reportlog file with one gpu item per entry: ``{nodeid: (outcome, skip reason)}``."""
    lines = []
    for node, (outcome, reason) in items.items():
        keywords = {"gpu": 1, node.split("::")[-1]: 1}
        if outcome == "skipped":
            lines.append({"$report_type": "TestReport", "nodeid": node, "when": "setup", "outcome": "skipped",
                          "keywords": keywords, "longrepr": [node, 1, f"Skipped: {reason}"]})
        else:
            lines.append({"$report_type": "TestReport", "nodeid": node, "when": "setup", "outcome": "passed",
                          "keywords": keywords, "longrepr": None})
            lines.append({"$report_type": "TestReport", "nodeid": node, "when": "call", "outcome": outcome,
                          "keywords": keywords, "longrepr": "snippets/x.py:3: AssertionError" if outcome == "failed" else None})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_gpu_job_fails_when_no_gpu_item_ran(tmp_path, capsys):
    skipped = report_log(tmp_path / "a.jsonl", {"snippets/a.py::a": ("skipped", "gpu item: needs vllm, not installed")})
    assert check_reports.main([str(skipped)]) == 1
    assert "no gpu item ran" in capsys.readouterr().err


def test_gpu_job_passes_when_one_ran_and_none_failed(tmp_path, capsys):
    log = report_log(tmp_path / "a.jsonl", {"snippets/a.py::a": ("passed", ""),
                                            "snippets/b.py::b": ("skipped", "gpu item: needs vllm")})
    assert check_reports.main([str(log)]) == 0
    assert "gpu items: 1 passed, 0 failed, 0 errors, 1 skipped" in capsys.readouterr().out


def test_gpu_job_fails_on_a_failed_item(tmp_path):
    log = report_log(tmp_path / "a.jsonl", {"snippets/a.py::a": ("passed", ""), "snippets/b.py::b": ("failed", "")})
    assert check_reports.main([str(log)]) == 1


def test_cpu_check_wants_every_gpu_item_skipped_for_want_of_cuda(tmp_path):
    cuda = "gpu item: needs a CUDA GPU (torch.cuda.is_available() is False here)"
    assert check_reports.main(["--cpu", str(report_log(tmp_path / "a.jsonl", {"x.py::x": ("skipped", cuda)}))]) == 0
    assert check_reports.main(["--cpu", str(report_log(tmp_path / "b.jsonl", {"x.py::x": ("passed", "")}))]) == 1
    assert check_reports.main(["--cpu", str(report_log(tmp_path / "c.jsonl", {}))]) == 1


def test_gpu_workflow_ends_with_the_check():
    workflow = (ROOT / ".github/workflows/gpu.yml").read_text()
    assert "python3 tests/gpu/check_reports.py reports/pytest-report-*.jsonl" in workflow
    assert 'python-version: "3.11"' in workflow and "nvidia-smi" in workflow


@pytest.mark.skipif(sys.platform != "linux", reason="the script is bash for the lent Linux GPU machine")
def test_offline_gpu_script_collects_and_skips_cleanly_without_cuda(tmp_path):
    # The CPU path of tests/gpu/run_offline.sh: no wheels to install, no CUDA; every gpu item must be
    # collected and skip for want of CUDA, and the script must exit 0 with its four files written.
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the script's GPU path applies")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("LLM_STUDY_ENV", None)
    result = subprocess.run(["bash", "tests/gpu/run_offline.sh", str(tmp_path / "no-wheels"), str(tmp_path / "out"), "300"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "environment.txt", "log.txt", "measured.tar.gz", "pytest-report-gpu.jsonl"]
    outcomes = check_reports.gpu_outcomes([tmp_path / "out" / "pytest-report-gpu.jsonl"])
    assert len(outcomes) >= 20 and {o for o, _ in outcomes.values()} == {"skipped"}
