"""tests/drift/report.py on synthetic report logs: what the drift workflow reports, and when it fails.

The lines written here have the shape pytest-reportlog gives the harness's reports (checked against
a real run): a DeprecatedCall's ``longrepr`` is the harness's message as text, another failure's
is text or pytest's dict, and each phase carries the ``environment`` user property.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drift import report

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "drift" / "report.py"
ADVICE = ("\nTeach the current API. If the call is not the page's (the library warns about its own internals), "
          "add a narrow `ignore` to filterwarnings in pyproject.toml with a comment saying why.")
VERSIONS = {"platform": "Linux-x86_64", "python": "3.11.7", "machine": "x86_64", "torch": "2.13.0+cpu",
            "transformers": "5.31.0", "peft": "0.22.0", "megatron-core": "0.17.0", "cuda": "none"}


def item(nodeid: str, outcome: str = "passed", longrepr=None, when: str = "call", versions=None) -> dict:
    return {"nodeid": nodeid, "location": [nodeid.split("::")[0], 0, nodeid], "keywords": {}, "outcome": outcome,
            "longrepr": longrepr, "when": when, "user_properties": [["environment", versions or VERSIONS]],
            "duration": 0.1, "start": 1.0, "stop": 1.1, "$report_type": "TestReport"}


def write_log(path: Path, reports: list[dict], finished: bool = True) -> Path:
    lines = [{"pytest_version": "9.2.0", "$report_type": "SessionStart"}, *reports]
    if finished:
        lines.append({"exitstatus": 1, "$report_type": "SessionFinish"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def main_log(tmp_path) -> Path:
    """A drift run of the main environment: three deprecations on three topics, one error, passes and skips."""
    return write_log(tmp_path / "drift-main.jsonl", [
        item("docs/basics/transformers/index.md::line-40"),
        item("docs/basics/transformers/index.md::line-52", "failed",
             "docs/basics/transformers/index.md:55: FutureWarning: `torch_dtype` is deprecated! Use `dtype` instead!"
             " (warned in /cache/nox/drift-main/lib/python3.11/site-packages/transformers/configuration_utils.py:812)"
             + ADVICE),
        item("snippets/basics/peft/lora_merge.py::lora_merge", "failed",
             "snippets/basics/peft/lora_merge.py:17: DeprecationWarning: `merge_and_unload(safe_merge=...)` has "
             "no effect\nand will be removed | in 0.23 <soon>" + ADVICE),
        item("snippets/training/megatron-lm/tp.py::tp", "failed",
             "snippets/training/megatron-lm/tp.py:9: DeprecationWarning: megatron.core.parallel_state.get_x is "
             "deprecated" + ADVICE),
        item("snippets/training/megatron-lm/tp.py::tp", "failed", "teardown failed", when="teardown"),
        item("docs/basics/peft/pitfalls.md::line-12", "failed",
             "docs/basics/peft/pitfalls.md:14: TypeError: LoraConfig.__init__() got an unexpected keyword argument 'r'\n\n"
             "docs/basics/peft/pitfalls.md:14: in <module>\nE   TypeError: ..."),
        item("docs/basics/peft/pitfalls.md::line-12", "passed", when="teardown"),
        item("docs/optimization/vllm/index.md::line-30", "skipped",
             ["docs/optimization/vllm/index.md", 30, "Skipped: runs in the 'vllm' environment: `nox -s vllm`"]),
        item("tests/test_site.py::test_build", "failed",
             {"reprcrash": {"path": "/repo/tests/test_site.py", "lineno": 88, "message": "AssertionError: 2 != 3"},
              "reprtraceback": {}, "sections": []}),
    ])


def test_deprecations_are_grouped_by_page_with_line_category_message_and_library(main_log):
    results = report.collect([main_log], [])
    found = sorted((d.page, d.where, d.category, d.library()) for d in results.deprecations)
    assert found == [
        ("docs/basics/peft/", "snippets/basics/peft/lora_merge.py:17", "DeprecationWarning", ""),
        ("docs/basics/transformers/", "docs/basics/transformers/index.md:55", "FutureWarning", "transformers 5.31.0"),
        ("docs/training/megatron-lm/", "snippets/training/megatron-lm/tp.py:9", "DeprecationWarning",
         "megatron-core 0.17.0"),
    ], found
    transformers = next(d for d in results.deprecations if d.where.endswith(":55"))
    assert transformers.message == "`torch_dtype` is deprecated! Use `dtype` instead!"
    assert transformers.warned_in.endswith("site-packages/transformers/configuration_utils.py:812")
    peft = next(d for d in results.deprecations if d.where.endswith(":17"))
    assert peft.message == "`merge_and_unload(safe_merge=...)` has no effect\nand will be removed | in 0.23 <soon>"


def test_other_failures_are_kept_apart_with_their_first_line(main_log):
    results = report.collect([main_log], [])
    failures = sorted((f.nodeid, f.when, f.summary) for f in results.failures)
    assert failures == [
        ("docs/basics/peft/pitfalls.md::line-12", "call",
         "docs/basics/peft/pitfalls.md:14: TypeError: LoraConfig.__init__() got an unexpected keyword argument 'r'"),
        ("snippets/training/megatron-lm/tp.py::tp", "teardown", "teardown failed"),
        ("tests/test_site.py::test_build", "call", "/repo/tests/test_site.py:88: AssertionError: 2 != 3"),
    ], failures
    assert [f.page for f in sorted(results.failures, key=lambda f: f.nodeid)] == [
        "docs/basics/peft/", "docs/training/megatron-lm/", "tests/test_site.py"]


def test_the_markdown_lists_each_page_once_and_escapes_table_cells(main_log):
    text = report.render(report.collect([main_log], []))
    assert text.count("### docs/basics/transformers/") == 1, text
    assert "**3 deprecations on 3 topics, 3 other failures.**" in text, text
    row = next(line for line in text.splitlines() if "lora_merge.py:17" in line)
    assert row == ("| `snippets/basics/peft/lora_merge.py:17` | DeprecationWarning | `merge_and_unload(safe_merge=...)` "
                   "has no effect<br>and will be removed \\| in 0.23 &lt;soon&gt; | ? | main |"), row
    row = next(line for line in text.splitlines() if "transformers/index.md:55" in line)
    assert "(warned in transformers/configuration_utils.py:812)" in row and "| transformers 5.31.0 | main |" in row, row
    # the deprecations section comes before the other failures, each under its page
    assert text.index("## Deprecations") < text.index("## Other failures") < text.index("## Versions"), text
    assert "| main | transformers |  |  | 5.31.0 |  |" in text, text


def test_install_notes_give_locked_newest_installed_and_why_not(tmp_path, main_log):
    notes = tmp_path / "drift-main.install.json"
    notes.write_text(json.dumps({
        "environment": "main",
        "packages": {"torch": {"locked": "2.13.0", "installed": "2.13.0+cpu"},
                     "transformers": {"locked": "5.24.0", "newest": "5.31.0", "installed": "5.31.0"},
                     "accelerate": {"locked": "1.15.0", "newest": "1.17.0", "installed": "1.16.0"}},
        "problems": [{"package": "accelerate", "text": "accelerate 1.17.0 cannot be installed here, 1.16.0 was "
                                                      "tested: accelerate 1.17.0 depends on torch>=2.14"}],
        "error": None}))
    broken = tmp_path / "drift-gptq.install.json"
    broken.write_text(json.dumps({"environment": "gptq", "packages": {}, "problems": [],
                                  "error": "pip install gptqmodel failed (exit status 1): no wheel"}))
    results = report.collect([main_log], [notes, broken])
    text = report.render(results)
    assert "| main | transformers | 5.24.0 | 5.31.0 | 5.31.0 | newest |" in text, text
    assert "| main | torch | 2.13.0 |  | 2.13.0+cpu | pinned by the lock |" in text, text
    assert ("| main | accelerate | 1.15.0 | 1.17.0 | 1.16.0 | accelerate 1.17.0 cannot be installed here, "
            "1.16.0 was tested: accelerate 1.17.0 depends on torch&gt;=2.14 |") in text, text
    assert "- **gptq** could not be installed or run:" in text and "no wheel" in text, text
    assert "1 environment not installed, 1 newest release not installable" in text, text
    assert results.errors == {"gptq": "pip install gptqmodel failed (exit status 1): no wheel"}


def test_a_clean_run_says_nothing_new_and_passes_strict(tmp_path):
    log = write_log(tmp_path / "drift-optimum.jsonl", [item("docs/training/optimum/index.md::line-20")])
    assert report.main([str(log), "--strict", "--output", str(tmp_path / "drift.md")]) == 0
    text = (tmp_path / "drift.md").read_text()
    assert "**Nothing new: no deprecation, no failure, and every newest release installed.**" in text, text
    assert "| optimum | transformers |  |  | 5.31.0 |  |" in text, text


def test_strict_fails_on_findings_and_an_unfinished_run(tmp_path, main_log):
    out = tmp_path / "drift.md"
    assert report.main([str(main_log), "--output", str(out)]) == 0  # what nox -s drift runs: never fails on findings
    assert report.main([str(main_log), "--strict", "--output", str(out)]) == 1
    cut = write_log(tmp_path / "drift-vllm.jsonl", [item("docs/optimization/vllm/index.md::line-30")], finished=False)
    results = report.collect([cut], [])
    assert [(f.environment, f.when) for f in results.failures] == [("vllm", "session")]
    assert "the run did not finish" in results.failures[0].summary


def test_unreadable_input_exits_2_naming_file_and_line(tmp_path):
    bad = tmp_path / "drift-main.jsonl"
    bad.write_text('{"$report_type": "SessionStart"}\nnot json\n')
    done = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert f"{bad}:2: not a report log line" in done.stderr, done.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("docs/a.md:3: FutureWarning: x is old", ("docs/a.md:3", "FutureWarning", "x is old", None)),
    ("snippets/a/b/c.py:7: PendingDeprecationWarning: y (warned in /v/site-packages/torch/f.py:2)" + ADVICE,
     ("snippets/a/b/c.py:7", "PendingDeprecationWarning", "y", "/v/site-packages/torch/f.py:2")),
    ("docs/a.md:3: DeprecationWarning: raised as an error\n\ndocs/a.md:3: in <module>",
     ("docs/a.md:3", "DeprecationWarning", "raised as an error", None)),
    ("docs/a.md:3: ValueError: not a warning", None),
    ("the run tried to reach the network: pypi.org", None),
])
def test_parse_deprecation(text, expected):
    assert report.parse_deprecation(text) == expected


def test_page_of_and_environment_name():
    assert report.page_of("snippets/training/deepspeed/zero/stage3.py") == "docs/training/deepspeed/"
    assert report.page_of("docs/training/deepspeed/pitfalls.md") == "docs/training/deepspeed/"
    assert report.page_of("docs/basics/index.md") == "docs/basics/index.md"
    assert report.page_of("tests/test_site.py") == "tests/test_site.py"
    assert report.environment_name(Path("reports/drift-vllm.jsonl")) == "vllm"
    assert report.environment_name(Path("reports/pytest-report-main.jsonl")) == "main"
    assert report.environment_name(Path("reports/drift-gptq.install.json")) == "gptq"
