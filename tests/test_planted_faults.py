"""Proof that the project's checks catch what they claim to, shown on a copy of the project itself.

Each scenario copies the project (docs/, snippets/, tests/, mkdocs.yml, pyproject.toml, overrides/,
.github/) to a temporary folder, plants one fault there, and runs what should catch it: pytest on
just the planted page or snippet (with the copy's own harness and configuration), one test of
the copy's own test files, or the strict site build. The run must fail with a message that
names the fault's file and line. The strict build names a page and the broken target but no
line, so for its faults the page and the target are asserted instead. The three faults that
the build reports as warnings (a page left out of nav, a dead link, a dead anchor) share one
build, each planted in a different page: mkdocs collects every warning before it aborts.

The last test prints ``N of N planted faults caught``. The whole module takes about 20 s on two
cores: only the planted items run, and only two of them import torch.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from test_security import yaml_line

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("docs", "snippets", "tests", "mkdocs.yml", "pyproject.toml", "overrides", "includes", ".github")
PYTEST = (sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider")
TIMEOUT_S = 300
TOPIC = "snippets/basics/peft"  # planted snippets go here, in the main environment
PAGE = "docs/basics/index.md"  # planted fences go here: a page with no code of its own


def copy_project(dest: Path) -> Path:
    """Copy the project's sources (not .git, .venv, reports/ or site/) into ``dest``; returns ``dest``."""
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        else:
            shutil.copy2(source, dest / name)
    return dest


def append(path: Path, text: str) -> None:
    """Append ``text`` to a file after a blank line (the page's last block stays closed)."""
    old = path.read_text("utf8")
    path.write_text(old.rstrip("\n") + "\n\n" + text)


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of ``path`` holding ``needle``, which must occur on exactly one line."""
    lines = [n for n, line in enumerate(path.read_text("utf8").splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{path}: {needle!r} is on lines {lines}, expected exactly one"
    return lines[0]


def plant_snippet(copy: Path, name: str, code: str) -> tuple[str, Path]:
    """Write ``TOPIC/name`` and include it from the PEFT overview (so it is no orphan); returns (rel, path)."""
    rel = f"{TOPIC}/{name}"
    path = copy / rel
    path.write_text(code)
    append(copy / "docs/basics/peft/index.md", f'```python title="{name}"\n--8<-- "{rel}"\n```\n')
    return rel, path


# ---------------------------------------------------------------------------------------------
# The faults. A scenario plants into a fresh copy and returns the command to run there and, for
# each fault it planted, the texts the command's output must hold and the exit status it must end with.
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Expect:
    """What catching one fault looks like: an exit status and texts that the output must contain."""

    status: int
    texts: list[str]


Scenario = Callable[[Path], tuple[list[str], dict[str, Expect]]]
SCENARIOS: dict[tuple[str, ...], Scenario] = {}


def scenario(*faults: str):
    """Register a scenario that plants the named faults (usually one)."""
    def register(function: Scenario) -> Scenario:
        SCENARIOS[faults] = function
        return function
    return register


FAILED, INTERRUPTED = int(pytest.ExitCode.TESTS_FAILED), int(pytest.ExitCode.INTERRUPTED)


@scenario("failing snippet")
def _failing_snippet(copy):
    rel, path = plant_snippet(copy, "planted_failing.py", (
        '"""A planted fault: the assertion is wrong."""\n'
        "total = sum(range(4))\n"
        'assert total == 7, f"sum(range(4)) is {total}, not 7"\n'))
    line = line_of(path, "assert total")
    return [*PYTEST, rel], {"failing snippet": Expect(FAILED, [f"{rel}:{line}: AssertionError: sum(range(4)) is 6, not 7"])}


@scenario("failing fence in a content tab")
def _failing_fence_in_tab(copy):
    page = copy / PAGE
    append(page, '=== "CPU"\n\n    ```python\n    total = sum(range(4))  # planted fence\n'
                 '    assert total == 7, f"sum(range(4)) is {total}, not 7"\n    ```\n\n'
                 '=== "GPU"\n\n    Nothing here.\n')
    fence, line = line_of(page, "planted fence") - 1, line_of(page, "assert total")
    return [*PYTEST, f"{PAGE}::line-{fence}"], {
        "failing fence in a content tab": Expect(FAILED, [f"{PAGE}:{line}: AssertionError: sum(range(4)) is 6, not 7"])}


@scenario("missing include")
def _missing_include(copy):
    page = copy / PAGE
    append(page, f'```python\n--8<-- "{TOPIC}/planted_missing.py"\n```\n')
    line = line_of(page, "planted_missing.py")
    return [*PYTEST, PAGE], {"missing include": Expect(INTERRUPTED, [
        f"{PAGE}:{line}: included file '{TOPIC}/planted_missing.py' does not exist"])}


@scenario("missing include, strict build")
def _missing_include_build(copy):
    # A missing include is an exception, not a warning: the build stops at that page, so it has a
    # build of its own. mkdocs names the page (relative to docs/) and the target, not the line.
    append(copy / PAGE, f'```python\n--8<-- "{TOPIC}/planted_missing.py"\n```\n')
    return mkdocs(copy), {"missing include, strict build": Expect(1, [
        f"Error reading page 'basics/index.md': Snippet at path '{TOPIC}/planted_missing.py' could not be found"])}


@scenario("unknown marker")
def _unknown_marker(copy):
    page = copy / PAGE
    append(page, '```{.python .gpus}\nprint("a planted typo in the marker")\n```\n')
    line = line_of(page, ".gpus")
    return [*PYTEST, PAGE], {"unknown marker": Expect(INTERRUPTED, [
        f"{PAGE}:{line}: unknown marker 'gpus'; registered markers:"])}


@scenario("page left out of nav", "dead link", "dead anchor")
def _site_warnings(copy):
    # mkdocs --strict logs every warning, then aborts; it names pages relative to docs/ and the
    # broken target, never a line.
    (copy / "docs/basics/planted-page.md").write_text("# A planted page that nav does not list\n")
    append(copy / "docs/training/index.md", "See [a planted page](planted-no-such-page.md).\n")
    append(copy / "docs/optimization/index.md", "See [a planted anchor](../basics/peft/index.md#planted-no-such-heading).\n")
    return mkdocs(copy), {
        "page left out of nav": Expect(1, [
            'The following pages exist in the docs directory, but are not included in the "nav" '
            "configuration:\n  - basics/planted-page.md"]),
        "dead link": Expect(1, [
            "Doc file 'training/index.md' contains a link 'planted-no-such-page.md', but the target "
            "'training/planted-no-such-page.md' is not found among documentation files."]),
        "dead anchor": Expect(1, [
            "Doc file 'optimization/index.md' contains a link '../basics/peft/index.md#planted-no-such-heading', "
            "but the doc 'basics/peft/index.md' does not contain an anchor '#planted-no-such-heading'."]),
    }


@scenario("wrong output block")
def _wrong_output(copy):
    page = copy / PAGE
    append(page, "```python\nprint(sum(range(4)))  # planted\n```\n\n```{.text .output}\n7\n```\n")
    fence, output = line_of(page, "# planted") - 1, line_of(page, "{.text .output}")
    return [*PYTEST, f"{PAGE}::line-{fence}"], {"wrong output block": Expect(FAILED, [
        f"{PAGE}:{output}: the output block differs from what the code printed", "Expected:\n    7\nGot:\n    6"])}


@scenario("CUDA call without the gpu marker")
def _cuda_without_marker(copy):
    # CUDA_VISIBLE_DEVICES="" (see run()) hides any GPU, so the fault shows on a GPU machine too.
    rel, path = plant_snippet(copy, "planted_cuda.py", (
        "import torch\n\n"
        'x = torch.zeros(1, device="cuda")\n'
        "print(x)\n"))
    line = line_of(path, 'device="cuda"')
    return [*PYTEST, rel], {"CUDA call without the gpu marker": Expect(FAILED, [
        f"{rel}:{line}: this code needs a CUDA GPU but is not marked `gpu`: put `# pytest: gpu` in the "
        "snippet's header"])}


@scenario("orphan snippet")
def _orphan_snippet(copy):
    rel = f"{TOPIC}/planted_orphan.py"
    (copy / rel).write_text('print("no page includes me")\n')
    return [*PYTEST, "tests/test_site.py::test_every_snippet_is_included_by_a_page"], {
        "orphan snippet": Expect(FAILED, [f"{rel}:1: no page includes this snippet"])}


@scenario("invalid workflow")
def _invalid_workflow(copy):
    workflow = copy / ".github/workflows/ci.yml"
    text, count = re.subn(r"(timeout-minutes:\s*)(\d+)\b", r"\g<1>\g<2>m", workflow.read_text(), count=1)
    assert count == 1, f"{workflow}: no `timeout-minutes: <number>` to break"
    workflow.write_text(text)
    line, value = next((n, m.group(1)) for n, text_line in enumerate(text.splitlines(), start=1)
                       if (m := re.search(r"timeout-minutes:\s*(\d+m)", text_line)))
    return [*PYTEST, "tests/test_planted_faults.py::test_workflow_files_match_githubs_schema"], {
        "invalid workflow": Expect(FAILED, [f".github/workflows/ci.yml:{line}: ",
                                            f"'{value}' is not of type 'number'"])}


@scenario("deprecated API in a snippet")
def _deprecated_call(copy):
    rel, path = plant_snippet(copy, "planted_deprecated.py", (
        "import torch\n\n"
        "with torch.cpu.amp.autocast():  # deprecated since torch 2.4: torch.amp.autocast('cpu')\n"
        "    y = torch.ones(2, 2) @ torch.ones(2, 2)\n"
        "print(y.dtype)\n"))
    line = line_of(path, "torch.cpu.amp.autocast")
    return [*PYTEST, rel], {"deprecated API in a snippet": Expect(FAILED, [
        f"{rel}:{line}: FutureWarning: `torch.cpu.amp.autocast(args...)` is deprecated"])}


FAULTS = [fault for faults in SCENARIOS for fault in faults]


def mkdocs(copy: Path) -> list[str]:
    return [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(copy / "site")]


# ---------------------------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    """One fault's result: the command run, its exit status and output, and what was expected."""

    command: list[str]
    status: int
    output: str
    expect: Expect

    @property
    def missing(self) -> list[str]:
        return [text for text in self.expect.texts if text not in self.output]

    @property
    def caught(self) -> bool:
        return self.status == self.expect.status and not self.missing

    def report(self) -> str:
        tail = "\n".join(self.output.splitlines()[-60:])
        return (f"ran: {' '.join(self.command)}\nexit status {self.status} (expected {self.expect.status}); "
                f"missing from the output: {self.missing}\n--- output (last 60 lines) ---\n{tail}")


def run(copy: Path, command: list[str]) -> tuple[int, str]:
    """Run ``command`` in ``copy`` with the test run's environment; returns (exit status, stdout + stderr)."""
    env = {**os.environ, "LLM_STUDY_ENV": "main", "NO_MKDOCS_2_WARNING": "1", "CUDA_VISIBLE_DEVICES": ""}
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as err:
        return -1, f"timed out after {TIMEOUT_S} s\n{err.stdout or ''}{err.stderr or ''}"
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    """Every scenario, each planted in a fresh copy and run, two at a time: fault name -> :class:`Outcome`."""
    def one(item):
        faults, plant = item
        try:
            copy = copy_project(tmp_path_factory.mktemp(re.sub(r"\W+", "-", faults[0])))
            command, expected = plant(copy)
            assert set(expected) == set(faults), (faults, expected)
        except Exception:  # the fault could not be planted: its test fails with why, the others still run
            return {fault: Outcome([], -1, traceback.format_exc(), Expect(0, ["(planted)"])) for fault in faults}
        status, output = run(copy, command)
        return {fault: Outcome(command, status, output, expect) for fault, expect in expected.items()}

    results: dict[str, Outcome] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for done in pool.map(one, SCENARIOS.items()):
            results.update(done)
    return results


@pytest.mark.parametrize("fault", FAULTS)
def test_planted_fault_is_caught(outcomes, fault):
    outcome = outcomes[fault]
    assert outcome.caught, f"planted fault not caught: {fault}\n{outcome.report()}"


def test_every_planted_fault_is_caught(outcomes, capsys):
    caught = [fault for fault, outcome in outcomes.items() if outcome.caught]
    with capsys.disabled():
        print(f"\n{len(caught)} of {len(FAULTS)} planted faults caught")
    assert len(outcomes) == len(FAULTS) == 13
    assert len(caught) == len(FAULTS), f"not caught: {sorted(set(FAULTS) - set(caught))}"


# ---------------------------------------------------------------------------------------------
# The real workflows match GitHub's schema (and the planted invalid one above runs this test)
# ---------------------------------------------------------------------------------------------

def workflow_schema_errors(root: Path) -> list[str]:
    """Validate ``root/.github/workflows/*.yml`` against GitHub's workflow schema, offline.

    Uses check-jsonschema's vendored copy of the schema (``--builtin-schema
    vendor.github-workflows``), so nothing is downloaded. Returns one
    ``.github/workflows/<file>:<line>: <JSON path>: <message>`` per error, with the line of the
    deepest key the error is about (check-jsonschema itself gives only the JSON path).

    Raises:
        RuntimeError: check-jsonschema did not run (its exit status and stderr).
    """
    files = sorted(p.relative_to(root).as_posix() for p in (root / ".github/workflows").glob("*.y*ml"))
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           "-o", "json", *files], cwd=root, capture_output=True, text=True, timeout=120)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"check-jsonschema exited with {done.returncode}:\n{done.stderr}") from None
    errors = []
    for error in report.get("errors", []):
        deepest = error.get("best_deep_match") or error
        line = yaml_line((root / error["filename"]).read_text(), deepest["path"])
        errors.append(f"{error['filename']}:{line}: {deepest['path']}: {deepest['message']}")
    for error in report.get("parse_errors", []):
        errors.append(f"{error.get('filename', '?')}:1: not YAML: {error.get('message', error)}")
    return errors


def test_workflow_files_match_githubs_schema():
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is in the `checks` extra (nox -s tests)")
    errors = workflow_schema_errors(ROOT)
    assert not errors, "\n".join(errors)
