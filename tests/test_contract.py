"""Contracts that every page keeps, checked from the sources in about a second, without a build.

1. **Every page is in nav.** Each ``.md`` or ``.ipynb`` under ``docs/`` is named by ``mkdocs.yml``'s
   nav, and each nav entry names a file (``mkdocs build --strict`` also refuses both, but only
   after a build, and without a line).
2. **Every topic overview has the template's sections**, the ``##`` headings of the topic template
   ``tests/scaffold/topic.md`` (What it is, Run it, On a GPU, Pitfalls, Sources), in its order. A
   topic is a folder, ``docs/<section>/<topic>/``: its overview ``index.md`` keeps the whole outline,
   and a section that moved to a sub-page of the folder (``pitfalls.md``) keeps its heading there
   with a link to it. The template is the single source: ``nox -s new`` writes new overviews from
   it, and this test reads it.
3. **Topics are folders.** No page sits directly in a section folder except its ``index.md`` (a
   topic's page is ``docs/<section>/<topic>/index.md``), every topic folder has its overview, and
   the overview links each sub-page of its folder.
4. **Every include resolves.** Each ``--8<--`` line in ``docs/`` names an existing file and, after
   ``:``, a section that the file opens and closes (``--8<-- [start:code]`` ... ``[end:code]``).
5. **No placeholder is left.** No topic page, section index or snippet still holds the template's
   ``To write:`` placeholders that ``nox -s new`` writes.

That every snippet is included by some page is tests/test_site.py's
``test_every_snippet_is_included_by_a_page``. Each finding is one string, ``path:line: what is
wrong; what to do``. The last two tests plant a fault of each kind, an orphan snippet among them,
in a copy of the project, and check that exactly those are found, and that the tests fail on them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from harness import INCLUDE
from scaffold.new_topic import PLACEHOLDER
from test_planted_faults import PYTEST, append, copy_project, line_of
from test_site import orphan_snippets

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "tests/scaffold/topic.md"
PAGE_SUFFIXES = (".md", ".ipynb")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


# ---------------------------------------------------------------------------------------------
# 1. Every page is in nav
# ---------------------------------------------------------------------------------------------

def nav_entries(root: Path) -> list[tuple[str, int]]:
    """``(page, line)`` for each page ``mkdocs.yml``'s nav names: its path under ``docs/`` and the
    1-based line of the entry. Links to other sites (``https://...``) are not pages."""
    text = (root / "mkdocs.yml").read_text("utf8")
    document = yaml.compose(text)  # the node tree: no tags constructed (`!!python/name:` is fine)
    nav = next((value for key, value in document.value if key.value == "nav"), None)
    entries, todo = [], [nav] if nav is not None else []
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.SequenceNode):
            todo.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            todo.extend(reversed([value for _, value in node.value]))
        elif isinstance(node, yaml.ScalarNode) and "://" not in node.value:
            entries.append((node.value, node.start_mark.line + 1))
    return entries


def nav_findings(root: Path) -> list[str]:
    """Pages under ``docs/`` that nav leaves out, and nav entries that name no file."""
    named = dict(nav_entries(root))
    docs = root / "docs"
    pages = sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.suffix in PAGE_SUFFIXES)
    findings = [f"docs/{page}:1: not in mkdocs.yml's nav; add `- Title: {page}` to nav, in its section's list "
                "(`nox -s new` adds a new topic's entry)" for page in pages if page not in named]
    findings += [f"mkdocs.yml:{line}: nav names {page}, which is not a file under docs/"
                 for page, line in named.items() if not (docs / page).is_file()]
    return findings


# ---------------------------------------------------------------------------------------------
# 2. Every topic overview has the template's sections
# ---------------------------------------------------------------------------------------------

def h2_headings(path: Path) -> list[tuple[str, int]]:
    """``(text, line)`` of each ``##`` heading of a Markdown file, outside fences and containers.

    Front matter is blanked first (its closing ``---`` would otherwise underline a heading).
    """
    text = path.read_text("utf8")
    front = FRONT_MATTER.match(text)
    if front:
        text = re.sub(r"[^\n]", " ", front.group(0)) + text[front.end():]
    tokens = MarkdownIt("commonmark").parse(text)
    return [(tokens[i + 1].content.strip(), token.map[0] + 1) for i, token in enumerate(tokens)
            if token.type == "heading_open" and token.tag == "h2"]


def template_sections(root: Path) -> list[str]:
    """The ``##`` headings of the topic template, in order: the sections every topic overview has."""
    return [text for text, _ in h2_headings(root / TEMPLATE)]


def topic_pages(root: Path) -> list[Path]:
    """``docs/<section>/<topic>/index.md``: the overview of every topic."""
    return sorted((root / "docs").glob("*/*/index.md"))


def section_findings(root: Path) -> list[str]:
    """Topic overviews that lack a template section, or hold them in another order.

    A missing section is reported at the line where it belongs: the next template section the page
    has (or the page's last line).
    """
    wanted = template_sections(root)
    outline = ", ".join(wanted)
    findings = []
    for page in topic_pages(root):
        rel = page.relative_to(root).as_posix()
        present = [(text, line) for text, line in h2_headings(page) if text in wanted]
        has = dict(present)  # the first heading of each name
        end = len(page.read_text("utf8").splitlines())
        for i, section in enumerate(wanted):
            if section in has:
                continue
            after = next(((s, has[s]) for s in wanted[i + 1:] if s in has), None)
            where = f"before \"## {after[0]}\"" if after else "at the end"
            findings.append(f"{rel}:{after[1] if after else end}: no \"## {section}\" section {where}; every topic "
                            f"overview has {outline}, in that order ({TEMPLATE}); a section on a sub-page "
                            "keeps its heading here, with a link to it")
        order = [text for text, _ in present]
        for (text, line), previous in zip(present[1:], order):
            if wanted.index(text) < wanted.index(previous):
                findings.append(f"{rel}:{line}: \"## {text}\" comes after \"## {previous}\"; every topic overview "
                                f"has {outline}, in that order ({TEMPLATE})")
    return findings


# ---------------------------------------------------------------------------------------------
# 3. Topics are folders
# ---------------------------------------------------------------------------------------------

LINK_TARGET = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")


def layout_findings(root: Path) -> list[str]:
    """Pages out of the topic layout: a page directly in a section folder other than its ``index.md``,
    a topic folder without ``index.md``, and a sub-page that its overview does not link."""
    docs = root / "docs"
    findings = [f"{page.relative_to(root).as_posix()}:1: a topic is a folder: move this page to "
                f"docs/{page.parent.name}/{page.stem}/index.md (`git mv`) and its nav entry with it"
                for page in sorted(docs.glob("*/*.md")) if page.name != "index.md"]
    for folder in sorted({page.parent for page in docs.glob("*/*/*.md")}):
        overview = folder / "index.md"
        rel = folder.relative_to(root).as_posix()
        if not overview.is_file():
            findings.append(f"{rel}/:1: a topic folder without its overview: write {rel}/index.md")
            continue
        linked = {target for target in LINK_TARGET.findall(overview.read_text("utf8"))}
        findings += [f"{page.relative_to(root).as_posix()}:1: {rel}/index.md does not link this sub-page; link it "
                     "under the section it holds (its heading stays in the overview)"
                     for page in sorted(folder.glob("*.md")) if page.name != "index.md" and page.name not in linked]
    return findings


# ---------------------------------------------------------------------------------------------
# 4. Every include resolves
# ---------------------------------------------------------------------------------------------

def section_marker(kind: str, name: str) -> re.Pattern:
    """pymdownx.snippets' section marker line: ``# --8<-- [start:code]`` (any comment prefix)."""
    return re.compile(rf"-+8<-+[ \t]+\[[ \t]*{kind}[ \t]*:[ \t]*{re.escape(name)}[ \t]*\]")


def include_findings(root: Path) -> list[str]:
    """``--8<--`` lines under ``docs/`` whose file does not exist or has no such section.

    Every line of a page counts, inside fences too: pymdownx.snippets reads the page before
    Markdown does (a line escaped as ``;--8<--`` is shown, not included). A numeric part after
    ``:`` is a line range, which is not checked.
    """
    findings = []
    for page in sorted((root / "docs").rglob("*.md")):
        rel = page.relative_to(root).as_posix()
        for number, line in enumerate(page.read_text("utf8").splitlines(), start=1):
            match = INCLUDE.match(line)
            if not match:
                continue
            if match.group("target").startswith("["):
                continue  # a section marker (`--8<-- [start:code]`), which marks and includes nothing
            target, _, section = match.group("target").partition(":")
            path = root / target
            if not path.is_file():
                findings.append(f"{rel}:{number}: includes {target}, which does not exist")
            elif section and not section[0].isdigit():
                text = path.read_text("utf8")
                missing = [kind for kind in ("start", "end") if not section_marker(kind, section).search(text)]
                if missing:
                    findings.append(f"{rel}:{number}: includes section {section!r} of {target}, which has no "
                                    + " and no ".join(f"`--8<-- [{kind}:{section}]` line" for kind in missing))
    return findings


# ---------------------------------------------------------------------------------------------
# 5. No placeholder is left
# ---------------------------------------------------------------------------------------------

def placeholder_findings(root: Path) -> list[str]:
    """Lines of section and topic pages (``docs/<section>/**/*.md``) and snippets that hold a template placeholder."""
    files = sorted([*(root / "docs").glob("*/**/*.md"), *(root / "snippets").rglob("*.py")])
    return [f"{path.relative_to(root).as_posix()}:{number}: a `{PLACEHOLDER}` placeholder from `nox -s new` "
            "is left; write what it asks for in its place"
            for path in files for number, line in enumerate(path.read_text("utf8").splitlines(), start=1)
            if PLACEHOLDER in line]


# ---------------------------------------------------------------------------------------------
# The real tree
# ---------------------------------------------------------------------------------------------

CONTRACTS = [nav_findings, section_findings, layout_findings, include_findings, placeholder_findings]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda f: f.__name__)
def test_the_project_keeps_the_contract(contract):
    findings = contract(ROOT)
    assert not findings, f"{len(findings)} finding(s):\n" + "\n".join(findings)


def test_the_contracts_read_the_template_nav_pages_and_includes():
    # A check that reads nothing passes everything: check that each reads what it should.
    assert template_sections(ROOT) == ["What it is", "Run it", "On a GPU", "Pitfalls", "Sources"]
    assert {"basics/tokenizers/index.md", "training/fsdp/index.md", "optimization/gptq/index.md",
            "optimization/gptq/pitfalls.md", "contributing.md"} <= {page for page, _ in nav_entries(ROOT)}
    assert ROOT / "docs/training/fsdp/index.md" in topic_pages(ROOT)
    assert ROOT / "docs/training/index.md" not in topic_pages(ROOT)
    assert ROOT / "docs/optimization/gptq/pitfalls.md" not in topic_pages(ROOT)
    headings = h2_headings(ROOT / "docs/basics/tokenizers/index.md")
    assert ("Pitfalls", line_of(ROOT / "docs/basics/tokenizers/index.md", "## Pitfalls")) in headings
    assert "pitfalls.md" in LINK_TARGET.findall((ROOT / "docs/optimization/gptq/index.md").read_text())
    assert not any(text.startswith("tags") for text, _ in headings), "front matter read as a heading"
    includes = sum(bool(INCLUDE.match(line)) for page in (ROOT / "docs").rglob("*.md")
                   for line in page.read_text("utf8").splitlines())
    assert includes > 100, f"only {includes} --8<-- lines found under docs/"


# ---------------------------------------------------------------------------------------------
# Planted faults, in a copy of the project
# ---------------------------------------------------------------------------------------------

PLANTED_PAGE = "docs/basics/planted/index.md"  # a topic overview with no Pitfalls, in nav
OUT_OF_NAV = "docs/out-of-nav.md"  # not a topic page: only nav applies
OLD_STYLE = "docs/basics/old-style.md"  # a topic page outside a folder (in nav)
UNLINKED = "docs/basics/peft/unlinked.md"  # a sub-page its overview does not link (in nav)
ORPHAN = "snippets/basics/peft/orphan_example.py"
BROKEN_PAGE = "docs/basics/peft/index.md"  # gets two broken includes


def plant_faults(copy: Path) -> Path:
    """Plant one fault of each kind in ``copy``, a copy of the project, and change nothing else."""
    (copy / PLANTED_PAGE).parent.mkdir()
    (copy / PLANTED_PAGE).write_text(
        "---\ntags:\n  - Basics\n---\n# Planted\n\nA page.\n\n## What it is\n\nText.\n\n## Run it\n\n"
        "```python\nprint(1)\n```\n\n## On a GPU\n\nText.\n\n## Sources\n\n**To write:** the sources.\n")
    nav = copy / "mkdocs.yml"
    after = "          - PEFT (LoRA) pitfalls: basics/peft/pitfalls.md\n"
    assert after in nav.read_text(), f"mkdocs.yml's nav has no line {after!r} to plant pages after"
    nav.write_text(nav.read_text().replace(after, after + "          - Unlinked: basics/peft/unlinked.md\n"
                                           "      - Planted: basics/planted/index.md\n      - Gone: basics/gone/index.md\n"
                                           "      - Old style: basics/old-style.md\n"))
    (copy / OUT_OF_NAV).write_text("# Out of nav\n")
    (copy / OLD_STYLE).write_text("# Old style\n\nA topic page from before topics were folders.\n")
    (copy / UNLINKED).write_text("# Unlinked\n\nA sub-page nobody links.\n")
    (copy / ORPHAN).write_text('print("nobody includes me")\n')
    append(copy / BROKEN_PAGE, '```python\n--8<-- "snippets/basics/peft/missing.py"\n```\n\n'
                               '```python\n--8<-- "snippets/basics/peft/merge_and_unload.py:nosuch"\n```\n')
    return copy


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A copy of the project with one fault of each kind planted (:func:`plant_faults`)."""
    return plant_faults(copy_project(tmp_path_factory.mktemp("contract")))


def expected_findings(copy: Path) -> dict[str, list[str]]:
    """``path:line`` of each planted fault, per check."""
    return {
        "nav_findings": [f"{OUT_OF_NAV}:1", f"mkdocs.yml:{line_of(copy / 'mkdocs.yml', 'basics/gone/index.md')}"],
        "section_findings": [f"{PLANTED_PAGE}:{line_of(copy / PLANTED_PAGE, '## Sources')}"],
        "layout_findings": [f"{OLD_STYLE}:1", f"{UNLINKED}:1"],
        "include_findings": [f"{BROKEN_PAGE}:{line_of(copy / BROKEN_PAGE, 'peft/missing.py')}",
                             f"{BROKEN_PAGE}:{line_of(copy / BROKEN_PAGE, ':nosuch')}"],
        "placeholder_findings": [f"{PLANTED_PAGE}:{line_of(copy / PLANTED_PAGE, PLACEHOLDER)}"],
        "orphan_snippets": [f"{ORPHAN}:1"],
    }


def test_planted_faults_are_found_exactly(planted):
    for check, expected in expected_findings(planted).items():
        findings = {**{f.__name__: f for f in CONTRACTS}, "orphan_snippets": orphan_snippets}[check](planted)
        assert [f.split(": ")[0] for f in findings] == expected, f"{check}:\n" + "\n".join(findings)
    sections = section_findings(planted)[0]
    assert 'no "## Pitfalls" section before "## Sources"' in sections, sections


def test_planted_faults_fail_the_contract_tests_with_file_and_line(planted, tmp_path):
    # The copy's own tests, on the copy: each must fail, and its message name each planted fault.
    tests = {f"tests/test_contract.py::test_the_project_keeps_the_contract[{f.__name__}]": f.__name__
             for f in CONTRACTS}
    tests["tests/test_site.py::test_every_snippet_is_included_by_a_page"] = "orphan_snippets"
    report = tmp_path / "report.jsonl"
    result = subprocess.run([*PYTEST, f"--report-log={report}", *tests], cwd=planted,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    calls = {r["nodeid"]: r for line in report.read_text().splitlines()
             if (r := json.loads(line)).get("when") == "call"}
    expected = expected_findings(planted)
    for node, check in tests.items():
        assert calls[node]["outcome"] == "failed", f"{node} did not fail on the planted copy"
        message = json.dumps(calls[node]["longrepr"])
        for where in expected[check]:
            assert f"{where}: " in message, f"{node}: the failure does not name {where}"
