"""Tests of ``nox -s new`` (tests/scaffold/new_topic.py), each in a copy of the project.

A new topic builds with ``mkdocs build --strict``, its overview's fence and its snippet pass as test
items with their output blocks checked, and it keeps the contracts of test_contract.py except the
one that wants its placeholders written; its nav entry (a nav section whose index is the overview)
ends its section's list and is the only change to ``mkdocs.yml``. An unknown section, a malformed slug, an existing topic and a
title that cannot go in a table row are refused with a message, and nothing is written. About 10 s
on two cores, most of it the site build, which runs beside the page's tests.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scaffold.new_topic import PLACEHOLDER, add_nav_entry, main, sections
from test_contract import (h2_headings, include_findings, layout_findings, nav_findings, placeholder_findings,
                           section_findings, template_sections)
from test_planted_faults import PYTEST, copy_project, line_of
from test_site import build, orphan_snippets

ROOT = Path(__file__).resolve().parents[1]
PAGE = "docs/training/ring-attention/index.md"
SNIPPETS = "snippets/training/ring-attention"
INDEX = "docs/training/index.md"


class _NavLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, with each ``!!python/name:`` tag read as its dotted name."""


_NavLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def nav_of(text: str) -> dict[str, list]:
    """mkdocs.yml's nav as ``{section title: [entries]}``, top-level pages under their own title."""
    return {title: entries for item in yaml.load(text, _NavLoader)["nav"] for title, entries in item.items()}


def run_main(argv: list[str], root: Path) -> tuple[int, str, str]:
    """``main(argv, root)``'s exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv, root)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory) -> tuple[Path, dict[str, str], str]:
    """A copy of the project after ``nox -s new -- training/ring-attention "Ring attention"``:
    ``(copy, {file: text before}, what the command printed)``."""
    copy = copy_project(tmp_path_factory.mktemp("scaffold"))
    before = {name: (copy / name).read_text() for name in ("mkdocs.yml", INDEX)}
    status, out, err = run_main(["training/ring-attention", "Ring attention"], copy)
    assert status == 0, err
    return copy, before, out


def test_it_writes_the_page_its_snippet_its_nav_entry_and_its_index_row(scaffolded):
    copy, before, out = scaffolded
    page = (copy / PAGE).read_text()
    assert page.startswith('---\ndescription: "To write: ')
    assert '\ntags:\n  - Training\n---\n# Ring attention\n\n!!! abstract llm-summary "At a glance"\n' in page
    assert [text for text, _ in h2_headings(copy / PAGE)] == template_sections(copy)
    assert '--8<-- "snippets/training/ring-attention/first_example.py:code"' in page
    assert "$" not in page, "a template variable was left unreplaced"
    assert [p.name for p in (copy / SNIPPETS).iterdir()] == ["first_example.py"]
    # mkdocs.yml: two lines more, the topic's nav section as the last entry of Training; the rest as it was.
    old, new = before["mkdocs.yml"].splitlines(), (copy / "mkdocs.yml").read_text().splitlines()
    at = new.index("      - Ring attention:")
    assert new[at + 1] == "          - Ring attention: training/ring-attention/index.md"
    assert new[:at] + new[at + 2:] == old
    old_nav, new_nav = nav_of(before["mkdocs.yml"]), nav_of((copy / "mkdocs.yml").read_text())
    assert new_nav["Training"] == with_topic(old_nav["Training"], topic_section("Ring attention", "training/ring-attention"))
    # The section's index: a row after the last row of its topic table.
    old, new = before[INDEX].splitlines(), (copy / INDEX).read_text().splitlines()
    last_row = max(i for i, line in enumerate(old) if line.startswith("| [") and "/index.md)" in line)
    row = (f"| [Ring attention](ring-attention/index.md) | {PLACEHOLDER} what a reader learns on this page, "
           "in one sentence. |")
    # ... and a step of its reading order, ahead of the walkthrough notebook, which stays last.
    order = old.index("## Reading order")
    walkthrough = next(i for i, line in enumerate(old) if i > order and ".ipynb)" in line)
    number = int(old[walkthrough].split(".")[0])
    step = (f"{number}. **[Ring attention](ring-attention/index.md)**: *{PLACEHOLDER} the question this page "
            f"answers?* {PLACEHOLDER} why it comes here.")
    expected = [*old[:last_row + 1], row, *old[last_row + 1:]]
    expected[walkthrough if walkthrough < last_row else walkthrough + 1] = (
        f"{number + 1}." + old[walkthrough].split(".", 1)[1])
    at = walkthrough if walkthrough < last_row else walkthrough + 1
    assert new == [*expected[:at], step, *expected[at:]]
    assert f"created {PAGE} and {SNIPPETS}/first_example.py" in out
    assert f".venv/bin/nox -s tests -- docs/training/ring-attention {SNIPPETS}" in out


def test_the_new_topic_builds_strict_and_its_items_pass(scaffolded, tmp_path):
    copy, _, _ = scaffolded
    report = tmp_path / "report.jsonl"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        site = pool.submit(build, copy, tmp_path / "site")
        items = pool.submit(subprocess.run, [*PYTEST, f"--report-log={report}", PAGE, SNIPPETS],
                            cwd=copy, capture_output=True, text=True, timeout=120)
        built, tested = site.result(), items.result()
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    html = (tmp_path / "site/training/ring-attention/index.html").read_text()
    assert "numbers.txt" in html and "--8&lt;--" not in html, "the snippet's code is not on the built page"
    assert 'href="ring-attention/"' in (tmp_path / "site/training/index.html").read_text()
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    calls = {r["nodeid"]: r for line in report.read_text().splitlines()
             if (r := json.loads(line)).get("when") == "call"}
    fence = line_of(copy / PAGE, "numbers = [3, 1, 2]") - 1
    printed = {f"{PAGE}::line-{fence}": "[1, 2, 3]\n", f"{SNIPPETS}/first_example.py::first_example": "sorted: [1, 2, 3]\n"}
    assert {node: r["outcome"] for node, r in calls.items()} == dict.fromkeys(printed, "passed")
    for node, text in printed.items():  # recorded because an output block was compared with it
        assert dict(calls[node]["user_properties"])["printed"] == text, node


def test_the_new_topic_keeps_the_contracts_but_its_placeholders(scaffolded):
    copy, _, _ = scaffolded
    for check in (nav_findings, section_findings, layout_findings, include_findings, orphan_snippets):
        assert check(copy) == [], check.__name__
    holders = [f"{path}:{n}" for path in (INDEX, PAGE, f"{SNIPPETS}/first_example.py")
               for n, line in enumerate((copy / path).read_text().splitlines(), start=1) if PLACEHOLDER in line]
    assert len(holders) > 8
    assert [f.split(": ")[0] for f in placeholder_findings(copy)] == holders


def topic_section(title: str, folder: str) -> dict:
    """A topic's nav section as mkdocs.yml's YAML reads: its overview as the section's index."""
    return {title: [{title: f"{folder}/index.md"}]}


def with_topic(entries: list, entry: dict) -> list:
    """A section's nav entries with ``entry`` after its last Markdown page or topic section (ahead of a
    walkthrough notebook)."""
    def is_page(e) -> bool:
        value = e if isinstance(e, str) else next(iter(e.values()))
        return isinstance(value, list) or str(value).endswith(".md")

    pages = [i for i, e in enumerate(entries) if is_page(e)]
    return [*entries[:pages[-1] + 1], entry, *entries[pages[-1] + 1:]]


@pytest.mark.parametrize("section", sorted(sections((ROOT / "mkdocs.yml").read_text())))
def test_the_nav_entry_ends_its_section_whichever_section(section):
    text = (ROOT / "mkdocs.yml").read_text()
    new = add_nav_entry(text, section, "KV cache: paged", "kv-cache")  # a title YAML must quote
    assert len(new.splitlines()) == len(text.splitlines()) + 2
    title = sections(text)[section][1]
    old_nav, new_nav = nav_of(text), nav_of(new)
    assert new_nav == {**old_nav, title: with_topic(old_nav[title], topic_section("KV cache: paged", f"{section}/kv-cache"))}


# ---------------------------------------------------------------------------------------------
# Refusals: nothing is written
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A copy of the project with a leftover snippet folder and a nav entry without its page."""
    copy = copy_project(tmp_path_factory.mktemp("refusals"))
    (copy / "snippets/basics/leftover").mkdir()
    nav = copy / "mkdocs.yml"
    after = "          - PEFT (LoRA) pitfalls: basics/peft/pitfalls.md\n"
    assert after in nav.read_text(), f"mkdocs.yml's nav has no line {after!r} to plant an entry after"
    nav.write_text(nav.read_text().replace(after, after + "      - Ghost:\n          - Ghost: basics/ghost/index.md\n"))
    (copy / "docs/training/old-style.md").write_text("# A topic page from before topics were folders\n")
    return copy


def _state(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


NOT_A_SLUG = "is not lowercase words joined by hyphens"
REFUSALS = [
    (["cooking/sous-vide"], "unknown section 'cooking'; the sections are basics, optimization, training"),
    (["training/Ring-Attention"], f"slug 'Ring-Attention' {NOT_A_SLUG}"),
    (["training/ring_attention"], f"slug 'ring_attention' {NOT_A_SLUG}"),
    (["training/ring attention"], f"slug 'ring attention' {NOT_A_SLUG}"),
    (["training/ring--attention"], f"slug 'ring--attention' {NOT_A_SLUG}"),
    (["training/ring-"], f"slug 'ring-' {NOT_A_SLUG}"),
    (["training/2-ring"], f"slug '2-ring' {NOT_A_SLUG}"),
    (["training/fsdp"], "topic training/fsdp already exists: docs/training/fsdp/index.md is its page"),
    (["training/old-style"], "topic training/old-style already exists: docs/training/old-style.md is its page"),
    (["basics/leftover"], "topic basics/leftover already exists: snippets/basics/leftover is its snippet folder"),
    (["basics/ghost"], "topic basics/ghost already exists: mkdocs.yml's nav names basics/ghost/index.md"),
    (["ring-attention"], "'ring-attention': give the topic as <section>/<slug>"),
    (["training/ring/attention"], "give the topic as <section>/<slug>"),
    (["training/ring-attention", "Ring | attention"], "must be one line of plain text without | [ ] or `"),
]


@pytest.mark.parametrize("argv, message", REFUSALS, ids=[" ".join(argv) for argv, _ in REFUSALS])
def test_it_refuses_with_a_message_and_writes_nothing(pristine, argv, message):
    before = _state(pristine)
    status, out, err = run_main(argv, pristine)
    assert (status, out) == (1, "")
    assert err.startswith("error: ") and message in err, err
    assert _state(pristine) == before


def test_it_refuses_from_the_command_line_too(pristine):
    # As `nox -s new` runs it: a script whose project is the one it sits in.
    before = _state(pristine)
    result = subprocess.run([sys.executable, "tests/scaffold/new_topic.py", "cooking/sous-vide"], cwd=pristine,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "error: unknown section 'cooking'" in result.stderr, result.stderr
    usage = subprocess.run([sys.executable, "tests/scaffold/new_topic.py"], cwd=pristine,
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage: nox -s new -- [-h] topic [title]" in usage.stderr, usage.stderr
    assert _state(pristine) == before
