"""Tests of the verification hook (overrides/hooks/verification.py): what each page says it ran.

Two kinds of test. Without a build: the hook's fence scanner finds, on every page of the real
``docs/``, exactly the fences and code items the harness finds. With a build: a copy of the site's
sources gets a planted page whose items have every outcome in planted report logs (a passing
fence, a failing snippet, a skipped item, a GPU item passed on a GPU run and one with none, an
item failed in one report and passed in another...), and the built HTML must show each one's
badge and the right counts; the same copy built without reports says "not verified yet". A topic
overview's summary card holds its "Time to run", summed from the call durations of planted logs
with known start and stop (or "not measured yet"), and the verification line.
"""

import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import harness
import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "overrides" / "hooks" / "verification.py"


def _load_hook():
    """The hook as a module, loaded the way mkdocs loads hooks (by path)."""
    spec = importlib.util.spec_from_file_location("llm_study_verification_hook", HOOK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


verification = _load_hook()
PAGES = sorted((ROOT / "docs").rglob("*.md"))


# ---------------------------------------------------------------------------------------------
# The scanner against the harness, on the real pages (no build)
# ---------------------------------------------------------------------------------------------

def test_scanner_sees_the_fences_the_harness_sees(pytestconfig):
    """Every fence of every page: same opening line, language, classes and snippet includes."""
    differences = []
    for page in PAGES:
        rel = page.relative_to(ROOT).as_posix()
        theirs = {f.line: (f.language, f.classes, [target for _, target in f.includes])
                  for f in harness.parse_page(page, pytestconfig)}
        mine = {f.line: (f.language, f.classes, f.includes) for f in verification.scan_fences(page.read_text("utf8"))}
        for line in sorted(set(theirs) | set(mine)):
            if theirs.get(line) != mine.get(line):
                differences.append(f"{rel}:{line}: harness {theirs.get(line)}, hook {mine.get(line)}")
    assert not differences, "\n".join(differences)


PROBE = '''
import json, os

def pytest_collection_finish(session):
    """Write every collected item's node id and whether it carries the gpu marker."""
    with open(os.environ["LLM_STUDY_PROBE_OUT"], "w") as out:
        json.dump({item.nodeid: item.get_closest_marker("gpu") is not None for item in session.items}, out)
'''


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> dict[str, bool]:
    """Node id -> gpu marker, of every item the harness collects from docs/ and snippets/."""
    folder = tmp_path_factory.mktemp("probe")
    (folder / "verification_probe.py").write_text(PROBE)
    out = folder / "items.json"
    env = {**os.environ, "LLM_STUDY_PROBE_OUT": str(out),
           "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "verification_probe", "-p", "no:cacheprovider", "--collect-only",
         "-q", f"--report-log={folder / 'collect.jsonl'}", "docs", "snippets"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text())


def test_hook_counts_the_items_the_harness_collects(pytestconfig, collected):
    """Per page: the fence items are the harness's, and the snippet items are the collected
    snippets that the page's Python fences include; each with the harness's gpu marker."""
    differences = []
    for page in PAGES:
        rel = page.relative_to(ROOT).as_posix()
        items = {item.nodeid: item.gpu for fence in verification.scan_fences(page.read_text("utf8"))
                 for item in verification.fence_items(fence, rel, ROOT)}
        included = {f"{path}::{Path(path).stem}" for fence in harness.parse_page(page, pytestconfig)
                    if fence.language in harness.PYTHON for _, target in fence.includes
                    for path in [target.split(":")[0]]}
        expected = {nodeid: gpu for nodeid, gpu in collected.items()
                    if nodeid.startswith(f"{rel}::") or nodeid in included}
        for nodeid in sorted(set(items) | set(expected)):
            if items.get(nodeid) != expected.get(nodeid):
                differences.append(f"{rel}: {nodeid}: harness gpu={expected.get(nodeid, 'not an item')}, "
                                   f"hook gpu={items.get(nodeid, 'not an item')}")
    assert not differences, "\n".join(differences)
    assert sum(nodeid.startswith("docs/") and ".md::" in nodeid for nodeid in collected) >= 20, \
        "the harness collected almost no fence items: the comparison above compared nothing"


# ---------------------------------------------------------------------------------------------
# Small rules, without a build
# ---------------------------------------------------------------------------------------------

def test_scanner_reads_nested_fences_containers_and_info_strings():
    text = textwrap.dedent('''\
        # Page

        ````markdown
        ```python
        print("an example of a fence, not an item")
        ```
        ````

        === "CPU"

            ```python title="x.py"
            a = 1
            ```

        !!! note

            ~~~{.python .gpu .needs-transformers}
            b = 2
            ~~~

        ```python
        --8<-- "snippets/basics/peft/lora_merge_equivalence.py"
        ```
        ''')
    fences = verification.scan_fences(text)
    assert [(f.line, f.language) for f in fences] == [(3, "markdown"), (11, "python"), (17, "python"), (21, "python")]
    assert fences[0].body.splitlines()[1] == 'print("an example of a fence, not an item")'
    assert (fences[1].indent, fences[1].body, fences[1].options) == ("    ", "a = 1", ['title="x.py"'])
    assert fences[2].classes == ["gpu", "needs-transformers"] and fences[2].body == "b = 2"
    assert fences[3].includes == ["snippets/basics/peft/lora_merge_equivalence.py"] and not fences[3].is_item
    assert [f.is_item for f in fences] == [False, True, True, False]


def _run(outcome: str, code: str | None = "x = 1", device: str = "none", reason: str = "",
         report: str = "reports/pytest-report-main.jsonl", nodeid: str = "docs/p.md::line-3"):
    return verification.Run(nodeid=nodeid, outcome=outcome, reason=reason, start=1796400000.0,
                            environment={"torch": "2.13.0+cpu", "cuda": device}, code=code, report=report)


def test_a_failure_in_any_report_wins_and_changed_code_is_not_counted():
    item = verification.CodeItem("docs/p.md::line-3", gpu=False, code="x = 1")
    status = verification.item_status(item, [_run("passed"), _run("failed", report="reports/pytest-report-b.jsonl")],
                                      session_reports=True)
    assert (status.state, status.text) == ("failed", "CPU failed")
    elsewhere = _run("skipped", reason="runs in the 'optimum' environment: `nox -s optimum`")
    status = verification.item_status(item, [elsewhere, _run("passed", report="reports/pytest-report-optimum.jsonl")],
                                      session_reports=True)
    assert (status.state, status.runs[0].report) == ("passed", "reports/pytest-report-optimum.jsonl")
    status = verification.item_status(item, [_run("passed", code="x = 2"), _run("failed", code="x = 0")],
                                      session_reports=True)
    assert (status.state, status.title) == ("unverified", "The code changed since the last test run.")
    gpu_item = verification.CodeItem("docs/p.md::line-3", gpu=True, code="x = 1")
    skipped = _run("skipped", device="NVIDIA H200",
                   reason="gpu item: needs flash-attn, not installed here: `pip install flash-attn`")
    status = verification.item_status(gpu_item, [skipped], session_reports=True)
    assert (status.state, status.text) == ("gpu-unverified", "GPU not yet verified: needs flash-attn")


def test_a_fresh_clone_keeps_the_gpu_run_and_says_the_cpu_blocks_are_not_verified_yet():
    """A clone has reports/verified (the kept GPU run) but none of the sessions' logs."""
    cpu_item = verification.CodeItem("docs/p.md::line-3", gpu=False, code="x = 1")
    gpu_item = verification.CodeItem("docs/p.md::line-9", gpu=True, code="x = 1")
    on_gpu = _run("passed", device="NVIDIA H200", report="reports/verified/pytest-report-gpu-h200.jsonl",
                  nodeid="docs/p.md::line-9")
    statuses = [verification.item_status(cpu_item, [], session_reports=False, any_reports=True),
                verification.item_status(gpu_item, [on_gpu], session_reports=False, any_reports=True)]
    assert [(s.state, s.text) for s in statuses] == [("unverified", "not verified yet"),
                                                     ("gpu-passed", "GPU passed on NVIDIA H200 · 2026-12-04")]
    line = verification.page_line(statuses, "p", session_reports=False, any_reports=True)
    assert line == ('<p class="llm-verification llm-verification--unverified" data-search-exclude>'
                    '<span class="llm-verification__cpu">1 code block: not verified yet on CPU (no test report; '
                    '<code>nox</code> runs them and writes one).</span> <span class="llm-verification__gpu">1 GPU block '
                    'passed on an NVIDIA H200 on 2026-12-04.</span></p>')


def test_a_topic_folder_names_its_library_and_keeps_the_runs_of_its_former_page():
    assert verification.topic_of("docs/training/deepspeed/pitfalls.md") == "deepspeed"
    assert verification.topic_of("docs/training/index.md") is None
    assert verification.former_page("docs/optimization/vllm/benchmark.md") == "docs/optimization/vllm.md"
    assert verification.former_page("docs/index.md") is None
    code = 'print("moved to a sub-page")'
    before = _run("passed", code=code, device="NVIDIA H200", report="reports/verified/pytest-report-gpu-h200.jsonl",
                  nodeid="docs/training/deepspeed.md::line-300")
    other_topic = _run("passed", code=code, device="NVIDIA H200", nodeid="docs/training/fsdp.md::line-300")
    runs = {run.nodeid: [run] for run in (before, other_topic)}
    item = verification.CodeItem("docs/training/deepspeed/pitfalls.md::line-12", gpu=True, code=code)
    found = verification.runs_of(item, runs, verification.runs_by_code(runs, "docs/training/deepspeed/pitfalls.md"))
    assert found == [before], "only the runs of the topic's own former page count"
    status = verification.item_status(item, found, session_reports=False, any_reports=True)
    assert (status.state, status.text) == ("gpu-passed", "GPU passed on NVIDIA H200 · 2026-12-04")
    assert "as docs/training/deepspeed.md::line-300" in status.title, status.title
    # The page line names the library of the folder: deepspeed's version on docs/training/deepspeed/pitfalls.md.
    cpu_run = _run("passed")
    cpu_run.environment["deepspeed"] = "0.19.8"
    cpu_item = verification.CodeItem("docs/training/deepspeed/pitfalls.md::line-3", gpu=False, code="x = 1")
    line = verification.page_line([verification.item_status(cpu_item, [cpu_run], session_reports=True)],
                                  verification.topic_of("docs/training/deepspeed/pitfalls.md"), session_reports=True)
    assert "· torch 2.13.0 · deepspeed 0.19.8 · 2026-12-04" in line, line


def test_the_kept_gpu_run_still_verifies_the_page_fences_it_ran():
    # reports/verified/ is the record of a run: its fences keep the page paths of that day, which the
    # hook maps to the topic folder's pages by their code.
    runs = verification.read_reports(ROOT)
    kept = [run for item_runs in runs.values() for run in item_runs
            if run.report.startswith("reports/verified/") and run.outcome == "passed" and "::line-" in run.nodeid]
    assert kept, "the kept GPU run passed no page fence: nothing to check"
    for run in kept:
        path = run.nodeid.split("::")[0]
        folder = ROOT / path.removesuffix(".md") if (ROOT / path.removesuffix(".md")).is_dir() else (ROOT / path).parent
        verified = []
        for page in sorted(folder.glob("*.md")):
            rel = page.relative_to(ROOT).as_posix()
            by_code = verification.runs_by_code(runs, rel)
            for fence in verification.scan_fences(page.read_text("utf8")):
                for item in verification.fence_items(fence, rel, ROOT):
                    status = verification.item_status(item, verification.runs_of(item, runs, by_code),
                                                      session_reports=True)
                    if status.state == "gpu-passed" and run in status.runs:
                        verified.append(item.nodeid)
        assert verified, f"{run.nodeid} passed on the GPU, but no fence of {folder.relative_to(ROOT)}/ shows it"


# ---------------------------------------------------------------------------------------------
# Built pages, with planted reports and without
# ---------------------------------------------------------------------------------------------

DAY = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.timezone.utc).timestamp()
CPU_ENV = {"python": "3.11.7", "torch": "2.13.0+cpu", "transformers": "5.24.0", "cuda": "none"}
GPU_ENV = {"python": "3.12.3", "torch": "2.11.0", "transformers": "5.24.0", "cuda": "NVIDIA H200"}
GPU_SKIP = "gpu item: needs a CUDA GPU (torch.cuda.is_available() is False here); run `pytest -m gpu` on a GPU machine"

PLANTED_PAGE = '''\
---
description: A page planted by tests/test_verification.py.
---
# Verification demo

Each block below has a planted outcome.

```python
print("fence passes")
```

```{.text .output}
fence passes
```

```python title="failing_snippet.py"
--8<-- "snippets/verification_demo/failing_snippet.py"
```

```python
print("skipped: needs a planted library")
```

=== "CPU"

    ```python
    x = 1  # passed in one report, failed in another
    ```

=== "GPU"

    ```{.python .gpu}
    x = 1  # passed on the GPU run
    ```

!!! note "Not run on a GPU yet"

    ```{.python .gpu}
    y = 2  # no GPU run
    ```

```python
z = 3  # (1)!
```

1.  An annotation of the block above: the badge goes after this list.

```python
w = 4  # runs in the 'optimum' environment
```

```python
v = 5  # the report recorded other code: the page changed since
```

````markdown
```python
print("an example inside a 4-backtick fence: not an item")
```
````
'''


def _line(needle: str, text: str = PLANTED_PAGE) -> int:
    """1-based line of the opening fence just above the line holding ``needle``."""
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines) if needle in line)  # 0-based index of the line below it


def _body(needle: str) -> str:
    return next(line.strip() for line in PLANTED_PAGE.splitlines() if needle in line)


def _entries(nodeid: str, outcome: str, env: dict, code: str | None = None, line: int | None = None,
             reason: str = "", message: str = "") -> list[dict]:
    """The report log lines of one item: setup, call and teardown as pytest-reportlog writes them."""
    props = [["environment", env]] + ([["code", "\n" * line + code + "\n"]] if code is not None else [])
    base = {"nodeid": nodeid, "keywords": {}, "user_properties": props, "start": DAY, "stop": DAY + 1,
            "$report_type": "TestReport", "longrepr": None, "sections": []}
    if outcome == "skipped":
        return [{**base, "when": "setup", "outcome": "skipped", "longrepr": ["x", 1, f"Skipped: {reason}"]},
                {**base, "when": "teardown", "outcome": "passed"}]
    call = {**base, "when": "call", "outcome": outcome}
    if outcome == "failed":
        call["longrepr"] = {"reprcrash": {"path": "x", "lineno": 1, "message": message}}
    return [{**base, "when": "setup", "outcome": "passed"}, call, {**base, "when": "teardown", "outcome": "passed"}]


def _fence(needle: str, outcome: str, env: dict = CPU_ENV, **kwargs) -> list[dict]:
    line = _line(needle)
    return _entries(f"docs/verification-demo.md::line-{line}", outcome, env, code=_body(needle), line=line, **kwargs)


TIMED_PAGE = "docs/basics/transformers/index.md"  # a real topic overview, with a summary card
TIMED_SECONDS = 12.3  # the planted call duration of its first CPU snippet


def _timed_snippet(root: Path) -> str:
    """The node id of the first CPU snippet item that :data:`TIMED_PAGE` includes."""
    for fence in verification.scan_fences((root / TIMED_PAGE).read_text("utf8")):
        for item in verification.fence_items(fence, TIMED_PAGE, root):
            if not item.gpu and item.code is None:
                return item.nodeid
    raise AssertionError(f"{TIMED_PAGE} includes no CPU snippet to plant a timed run for")


def _timed(entries: list[dict], seconds: float, setup: float = 30.0) -> list[dict]:
    """``entries`` (from :func:`_entries`) with a call phase of ``seconds`` (``stop - start``) and a
    setup phase of ``setup`` seconds before it, which the time to run must leave out."""
    out = []
    for entry in entries:
        entry = dict(entry)
        if entry["when"] == "setup":
            entry["start"], entry["stop"] = DAY - setup, DAY
        elif entry["when"] == "call":
            entry["start"], entry["stop"] = DAY, DAY + seconds
        out.append(entry)
    return out


def _plant_reports(root: Path) -> None:
    snippet = "snippets/verification_demo/failing_snippet.py::failing_snippet"
    annotated = _line("z = 3")
    main = [
        *_fence("fence passes\")", "passed"),
        *_entries(snippet, "failed", CPU_ENV, message="AssertionError: planted failure"),
        *_fence("skipped: needs", "skipped", reason="needs a planted library: `pip install planted`"),
        *_fence("passed in one report", "passed"),
        *_fence("passed on the GPU run", "skipped", reason=GPU_SKIP),
        *_fence("no GPU run", "skipped", reason=GPU_SKIP),
        # Recorded 40 lines lower (text above it grew since): the same code, so the same test.
        *_entries(f"docs/verification-demo.md::line-{annotated + 40}", "passed", CPU_ENV,
                  code=_body("z = 3"), line=annotated + 40),
        *_fence("runs in the 'optimum'", "skipped", reason="runs in the 'optimum' environment: `nox -s optimum`"),
        *_entries(f"docs/verification-demo.md::line-{_line('v = 5')}", "passed", CPU_ENV, code="v = 4",
                  line=_line("v = 5")),
        *_entries("docs/verification-demo-notebook.ipynb::cell-1", "passed", CPU_ENV),
        *_timed(_entries(_timed_snippet(root), "passed", CPU_ENV), TIMED_SECONDS),
    ]
    other = [*_fence("runs in the 'optimum'", "passed"),
             *_fence("passed in one report", "failed", message="AssertionError: fails in this environment")]
    gpu = _fence("passed on the GPU run", "passed", env=GPU_ENV)
    # Neither is a report of the latest run: a failure there must not count.
    ignored = _fence("fence passes\")", "failed", message="AssertionError: from a portability run")
    for rel, entries in [("reports/pytest-report-main.jsonl", main), ("reports/pytest-report-optimum.jsonl", other),
                         ("reports/verified/pytest-report-gpu-planted.jsonl", gpu),
                         ("reports/portability-order-main.jsonl", ignored), ("reports/pytest-report.jsonl", ignored)]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


NOTEBOOK = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Notebook demo\n"]},
                      {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": ["print(1)\n"]}],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def _project(root: Path) -> Path:
    """A copy of the site's sources with the planted page, snippet and notebook added to nav."""
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    for folder in ("docs", "snippets", "overrides", "includes"):  # includes/: Markdown appended to every page
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "docs" / "verification-demo.md").write_text(PLANTED_PAGE)
    (root / "docs" / "verification-demo-notebook.ipynb").write_text(json.dumps(NOTEBOOK))
    (root / "snippets" / "verification_demo").mkdir()
    (root / "snippets" / "verification_demo" / "failing_snippet.py").write_text("assert 1 == 2, 'planted failure'\n")
    config = (root / "mkdocs.yml").read_text()
    anchor = "  - Contributing: contributing.md\n"
    assert anchor in config, f"mkdocs.yml's nav has no line {anchor!r} to add the planted pages after"
    (root / "mkdocs.yml").write_text(config.replace(anchor, anchor + "  - Demo: verification-demo.md\n"
                                                    "  - Notebook demo: verification-demo-notebook.ipynb\n"))
    return root


def _build(*projects: Path) -> list[Path]:
    """Build each project with ``mkdocs build --strict``, side by side; returns their site folders."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    runs = [subprocess.Popen([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(project / "site")],
                             cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for project in projects]
    for project, run in zip(projects, runs):
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, f"{project}: mkdocs build --strict failed:\n{output[-3000:]}"
    return [project / "site" for project in projects]


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    """The planted project built with its planted reports, and without any report."""
    planted = _project(tmp_path_factory.mktemp("planted"))
    _plant_reports(planted)
    bare = _project(tmp_path_factory.mktemp("bare"))
    planted_site, bare_site = _build(planted, bare)
    return {"planted": planted_site, "bare": bare_site}


@pytest.fixture(scope="module")
def planted_site(sites) -> Path:
    return sites["planted"]


@pytest.fixture(scope="module")
def bare_site(sites) -> Path:
    return sites["bare"]


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Badges(HTMLParser):
    """Badges (state, text, title, classes of the enclosing elements) and page lines of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.badges: list[dict] = []
        self.lines: list[str] = []
        self.text_seen = ""  # all text so far, to check what comes before a badge

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = attrs.get("class") or ""
        if tag not in VOID:
            self.stack.append((tag, classes))
        if tag == "span" and "llm-badge" in classes.split():
            state = next(c.removeprefix("llm-badge--") for c in classes.split() if c.startswith("llm-badge--"))
            self.badges.append({"state": state, "text": "", "title": attrs.get("title", ""), "before": self.text_seen,
                                "within": " ".join(c for _, c in self.stack[:-1]), "open": True})
        if tag == "p" and "llm-verification" in classes.split():
            self.lines.append("")

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, classes = self.stack.pop()
            if open_tag == tag:
                break
        if tag == "span" and self.badges and self.badges[-1]["open"] and \
                not any("llm-badge" in c.split() for _, c in self.stack):
            self.badges[-1]["open"] = False

    def handle_data(self, data):
        self.text_seen += data
        if self.badges and self.badges[-1]["open"]:
            self.badges[-1]["text"] += data
        if any("llm-verification" in c.split() for _, c in self.stack):
            self.lines[-1] += data


def _read(site: Path, page: str) -> _Badges:
    parser = _Badges()
    parser.feed((site / page / "index.html").read_text("utf8"))
    return parser


def test_each_planted_outcome_shows_its_badge(planted_site):
    page = _read(planted_site, "verification-demo")
    got = [(b["state"], b["text"]) for b in page.badges]
    assert got == [
        ("passed", "CPU passed"),
        ("failed", "CPU failed"),                                # the failing snippet
        ("skipped", "skipped: needs a planted library"),
        ("failed", "CPU failed"),                                # passed in main, failed in optimum
        ("gpu-passed", "GPU passed on NVIDIA H200 · 2026-12-04"),
        ("gpu-unverified", "GPU not yet verified"),
        ("passed", "CPU passed"),                                # recorded under another line
        ("passed", "CPU passed"),                                # skipped in main, passed in optimum
        ("unverified", "not verified yet"),                      # the report holds older code
    ], "verification-demo.md: badges in page order"
    _, failing, _, both, on_gpu, no_gpu, annotated, elsewhere, changed = page.badges
    assert "planted failure" in failing["title"] and "reports/pytest-report-main.jsonl" in failing["title"]
    assert "fails in this environment" in both["title"] and "pytest-report-optimum.jsonl" in both["title"]
    assert "reports/verified/pytest-report-gpu-planted.jsonl" in on_gpu["title"] and "torch 2.11.0" in on_gpu["title"]
    assert "pytest-report-optimum.jsonl" in elsewhere["title"]
    assert f"as line-{_line('z = 3') + 40}" in annotated["title"]
    assert changed["title"] == "The code changed since the last test run."
    assert "tabbed-block" in both["within"] and "tabbed-block" in on_gpu["within"], "a tab's badge left its tab"
    assert "admonition" in no_gpu["within"], "an admonition's badge left the admonition"
    # After the output block, and after the annotation list (Material needs it next to the code).
    assert page.badges[0]["before"].rstrip().endswith("fence passes")
    assert annotated["before"].rstrip().endswith("the badge goes after this list.")


def test_planted_page_line_counts_every_item(planted_site):
    page = _read(planted_site, "verification-demo")
    assert page.lines == [
        "3 of 7 code blocks passed on CPU, 2 failed, 1 skipped, 1 not verified yet · torch 2.13.0 · "
        "transformers 5.24.0 · 2026-12-04. 1 GPU block passed on an NVIDIA H200 on 2026-12-04; "
        "1 not yet verified on a GPU."], "verification-demo.md: the line under the title"
    html = (planted_site / "verification-demo" / "index.html").read_text("utf8")
    assert html.index("</h1>") < html.index('class="llm-verification') < html.index("Each block below"), \
        "the page line is not right under the H1"


def test_a_failed_item_never_shows_passed(planted_site):
    html = (planted_site / "verification-demo" / "index.html").read_text("utf8")
    page = _read(planted_site, "verification-demo")
    failed = [b for b in page.badges if b["state"] == "failed"]
    assert len(failed) == 2 and "llm-verification--failed" in html
    for badge in failed:
        assert "passed" not in badge["text"] and badge["title"].startswith("Failed on CPU"), badge
    assert "from a portability run" not in html, "a report outside the latest run's logs was read"


def test_notebook_page_gets_its_line_from_the_reports(planted_site):
    page = _read(planted_site, "verification-demo-notebook")
    assert len(page.lines) == 1 and page.lines[0].startswith("1 of 1 code block passed on CPU · torch 2.13.0"), \
        page.lines


def test_without_reports_every_page_says_not_verified_yet(bare_site):
    page = _read(bare_site, "verification-demo")
    assert [b["state"] for b in page.badges] == ["unverified"] * 9
    assert {b["text"] for b in page.badges} == {"not verified yet"}
    assert page.lines == ["9 code blocks on this page: not verified yet (no test report; nox runs them and "
                          "writes one)."]
    real = _read(bare_site, "basics/transformers")
    assert real.badges and {b["state"] for b in real.badges} == {"unverified"}, "docs/basics/transformers/index.md"
    assert len(real.lines) == 1 and "not verified yet" in real.lines[0]
    assert not _read(bare_site, "verification-demo-notebook").lines, "a notebook without report items got a line"


# ---------------------------------------------------------------------------------------------
# The summary card's "Time to run": call durations from the report logs
# ---------------------------------------------------------------------------------------------

def _write_log(root: Path, rel: str, entries: list[dict]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))


def test_time_to_run_sums_the_call_durations_of_the_cpu_items(tmp_path):
    """Known start/stop in fake logs: the call phases of the CPU items add up; setup, GPU runs and
    GPU items do not count; an item run in another session counts with that session's run."""
    fence, snippet = "docs/p.md::line-3", "snippets/p/s.py::s"
    elsewhere, gpu, missing = "docs/p.md::line-9", "docs/p.md::line-15", "docs/p.md::line-21"
    _write_log(tmp_path, "reports/pytest-report-main.jsonl", [
        *_timed(_entries(fence, "passed", CPU_ENV, code="x = 1", line=2), 12.5),
        *_timed(_entries(snippet, "passed", CPU_ENV), 27.25, setup=100.0),
        *_entries(elsewhere, "skipped", CPU_ENV, reason="runs in the 'optimum' environment: `nox -s optimum`"),
        *_entries(gpu, "skipped", CPU_ENV, reason=GPU_SKIP)])
    _write_log(tmp_path, "reports/pytest-report-optimum.jsonl",
               _timed(_entries(elsewhere, "passed", CPU_ENV, code="y = 2", line=8), 5.0))
    _write_log(tmp_path, "reports/verified/pytest-report-gpu-h200.jsonl",
               _timed(_entries(gpu, "passed", GPU_ENV, code="z = 3", line=14), 300.0))
    runs = verification.read_reports(tmp_path)
    assert runs[fence][0].duration == 12.5 and runs[snippet][0].duration == 27.25
    items = [verification.CodeItem(fence, False, "x = 1"), verification.CodeItem(snippet, False),
             verification.CodeItem(elsewhere, False, "y = 2"), verification.CodeItem(gpu, True, "z = 3"),
             verification.CodeItem(missing, False, "w = 4")]
    statuses = [verification.item_status(item, runs.get(item.nodeid, []), session_reports=True) for item in items]
    assert [s.state for s in statuses] == ["passed", "passed", "passed", "gpu-passed", "unverified"]
    assert verification.cpu_seconds(statuses) == (44.75, 3, 4)
    assert verification.time_to_run(statuses) == (
        '<p class="llm-time-to-run" data-search-exclude><strong>Time to run:</strong> '
        'CPU code blocks run in about 45 s in the last test run (3 of 4 measured).</p>')
    assert "(" not in verification.time_to_run(statuses[:3]).split("</strong>")[1], "all measured: no count"


def test_time_to_run_says_not_measured_yet_without_the_sessions_logs(tmp_path):
    item = verification.CodeItem("docs/p.md::line-3", False, "x = 1")
    bare = verification.item_status(item, [], session_reports=False, any_reports=False)
    assert "not measured yet" in verification.time_to_run([bare])
    # A fresh clone keeps the GPU run's log: its durations never count for the CPU time.
    gpu_item = verification.CodeItem("docs/p.md::line-9", True, "z = 3")
    on_gpu = _run("passed", device="NVIDIA H200", report="reports/verified/pytest-report-gpu-h200.jsonl",
                  nodeid="docs/p.md::line-9")
    on_gpu.duration = 300.0
    statuses = [verification.item_status(item, [], session_reports=False, any_reports=True),
                verification.item_status(gpu_item, [on_gpu], session_reports=False, any_reports=True)]
    assert verification.cpu_seconds(statuses) == (0.0, 0, 1)
    assert "not measured yet" in verification.time_to_run(statuses)
    assert "no CPU code blocks" in verification.time_to_run(statuses[1:])


@pytest.mark.parametrize("seconds, words", [
    (0.4, "under 1 s"), (4.4, "about 4 s"), (12.3, "about 10 s"), (44.75, "about 45 s"), (57.4, "about 55 s"),
    (58.0, "about 1 min"), (150.0, "about 2.5 min"), (700.0, "about 12 min")])
def test_durations_are_rounded_for_a_reader(seconds, words):
    assert verification.about(seconds) == words


def test_a_topic_card_holds_the_time_to_run_and_the_verification_line(planted_site, bare_site):
    page = TIMED_PAGE.removeprefix("docs/").removesuffix("/index.md")
    for site, time in [(planted_site, f"CPU code blocks run in {verification.about(TIMED_SECONDS)} in the last "
                                      f"test run (1 of "),
                       (bare_site, "not measured yet")]:
        html = (site / page / "index.html").read_text("utf8")
        start, end = verification.CARD.search(html), verification.card_end(html)
        assert start and end, f"{site.name}: {TIMED_PAGE} has no summary card"
        card = html[start.start():end]
        assert "What you will learn" in card and "Prerequisites:" in card
        assert card.count('class="llm-time-to-run"') == 1 and f"Time to run:</strong> {time}" in card, card[-800:]
        assert card.count('class="llm-verification ') == 1, "the verification line is not in the card"
        assert html.count('class="llm-verification ') == 1, "the verification line is also under the H1"
        assert html.index("</h1>") < start.start(), "the card is not under the title"


def test_the_hook_reads_tabs_and_admonitions_as_the_harness_does():
    """The hook keeps its own copy of the harness's ``dedent_containers`` (the docs environment has
    no pytest to import the harness with): both must turn every page into the same text, or a
    badge would land on another block than the item it reports."""
    pages = sorted((ROOT / "docs").rglob("*.md"))
    differ = [p.relative_to(ROOT).as_posix() for p in pages if (text := p.read_text("utf8"))
              and verification.dedent_containers(text) != harness.dedent_containers(text)]
    assert pages and not differ, ("overrides/hooks/verification.py and tests/harness.py read these "
                                  f"differently: {differ}")
