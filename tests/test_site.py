"""Tests of the site: the strict build passes, pages show what their benchmarks and GPU runs
measured, every snippet is on a page, and few output blocks elide text.

What the strict build catches (a page out of nav, dead links and anchors, missing includes) is
proven on planted faults in test_planted_faults.py.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` on ``project`` into ``site``; returns the finished process.

    Not with ``-q``: mkdocs 1.6 counts warnings for ``--strict`` only at the levels it logs.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT, site)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def test_strict_build_passes(built_site):
    pages = {p.relative_to(built_site).as_posix() for p in built_site.rglob("index.html")}
    for page in ("index.html", "basics/transformers/index.html", "basics/tokenizers/index.html",
                 "basics/datasets/index.html", "basics/peft/index.html", "contributing/index.html"):
        assert page in pages


# A request the browser would make on opening the page: scripts, styles, fonts, images, frames.
EXTERNAL_FETCH = re.compile(
    r"""<(?:script|img|iframe|source)\b[^>]*\bsrc=["'](?:https?:)?//"""
    r"""|<link\b(?=[^>]*\brel=["'](?:stylesheet|preconnect|preload|icon|manifest|modulepreload)["'])[^>]*\bhref=["'](?:https?:)?//"""
    r"""|@import\s+url\(["']?(?:https?:)?//|fonts\.googleapis|fonts\.gstatic""",
    re.I,
)


def test_pages_request_nothing_from_outside_hosts(built_site):
    offenders = []
    for path in [*built_site.rglob("*.html"), *built_site.rglob("*.css")]:
        for match in EXTERNAL_FETCH.finditer(path.read_text(errors="replace")):
            offenders.append(f"{path.relative_to(built_site)}: {match.group(0)}")
    assert not offenders, "\n".join(offenders[:20])
    # Material asks api.github.com for repository facts from an element with this attribute.
    assert 'data-md-component="source"' not in (built_site / "index.html").read_text()


def test_snippet_include_shows_code_not_the_marker(built_site):
    html = (built_site / "basics/peft/index.html").read_text()
    assert "--8&lt;--" not in html and "--8<--" not in html
    assert "# pytest:" not in html, "a snippet's test header leaked onto the page"


def _cpu_benchmarks() -> list[Path]:
    return [p for p in sorted(ROOT.glob("snippets/*/*/benchmark_*.py"))
            if not p.read_text().startswith("# pytest: gpu")]


def _measured_gpu_benchmarks() -> list[Path]:
    """GPU benchmarks with a measurement in the repository (from a GPU run: tests/gpu/place_results.py)."""
    return [p for p in sorted(ROOT.glob("snippets/**/benchmark_*.py"))
            if p.read_text().startswith("# pytest: gpu") and p.with_suffix(".out.txt").exists()]


@pytest.mark.parametrize("script", _cpu_benchmarks() + _measured_gpu_benchmarks(),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_shows_what_its_benchmark_measured(script):
    # `nox -s measure` writes these two files; the topic's page must show both under "Measured here".
    section, topic = script.relative_to(ROOT / "snippets").parts[:2]
    table = script.with_suffix(".out.txt")
    plot = ROOT / "docs" / section / topic / f"{script.stem}.png"
    page = (ROOT / "docs" / section / f"{topic}.md").read_text()
    assert table.exists() and table.read_text().startswith("# measured "), f"{table}: run `nox -s measure`"
    assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{plot}: run `nox -s measure`"
    assert f'--8<-- "{table.relative_to(ROOT).as_posix()}"' in page, f"{section}/{topic}.md does not include {table.name}"
    assert f"]({topic}/{plot.name})" in page, f"{section}/{topic}.md does not show {plot.name}"
    assert "nox -s measure" in page, f"{section}/{topic}.md does not say how to regenerate its figures"
    if script.read_text().startswith("# pytest: gpu"):  # the stamp names the GPU it ran on
        assert table.read_text().split("\n", 1)[0].count(", 1 ") == 1, f"{table}: no GPU in its stamp"


INCLUDE = re.compile(r"""^\s*-{1,}8<-{1,}\s+["']?(?P<target>[^"'\s:]+)""", re.M)


def orphan_snippets(root: Path) -> list[str]:
    """``snippets/...py:1: ...`` for each snippet item that no page under ``docs/`` includes.

    A snippet item is a ``.py`` file under ``snippets/`` whose name does not start with ``_``
    (those are modules that other snippets import), other than ``conftest.py`` and the files of a
    folder its ``conftest.py`` lists in ``collect_ignore`` (code that a server loads).
    """
    included = {m.group("target") for page in (root / "docs").rglob("*.md")
                for m in INCLUDE.finditer(page.read_text("utf8"))}
    ignored = [conftest.parent / name for conftest in (root / "snippets").rglob("conftest.py")
               for name in re.findall(r"""["']([^"']+)["']""",
                                      (re.search(r"collect_ignore\s*=\s*\[(.*?)\]", conftest.read_text(), re.S)
                                       or re.match("()", "")).group(1))]
    orphans = []
    for path in sorted((root / "snippets").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if path.name.startswith("_") or path.name == "conftest.py" or any(d in path.parents for d in ignored):
            continue
        if rel not in included:
            orphans.append(f"{rel}:1: no page includes this snippet; include it from its topic's page "
                           f"with --8<-- (or name it _{path.name} if other snippets only import it)")
    return orphans


def test_every_snippet_is_included_by_a_page():
    orphans = orphan_snippets(ROOT)
    assert not orphans, "\n".join(orphans)


OUTPUT_BLOCK = re.compile(r"^([ \t]*)```\{[^}]*\.output[^}]*\}\n(.*?)^\1```", re.M | re.S)


def output_blocks(root: Path) -> list[tuple[str, str]]:
    """``(page:line, text)`` of every ``{.text .output}`` block under ``docs/``."""
    blocks = []
    for page in sorted((root / "docs").rglob("*.md")):
        text = page.read_text("utf8")
        for match in OUTPUT_BLOCK.finditer(text):
            blocks.append((f"{page.relative_to(root)}:{text.count(chr(10), 0, match.start()) + 1}", match.group(2)))
    return blocks


def test_at_most_one_output_block_in_six_elides_text():
    # `...` lets a block skip what changes from run to run (timings); a page should show values.
    blocks = output_blocks(ROOT)
    elided = [where for where, text in blocks if "..." in text]
    assert len(elided) * 6 <= len(blocks), (f"{len(elided)} of {len(blocks)} output blocks hold `...`; at most "
                                            f"{len(blocks) // 6} may:\n" + "\n".join(elided))


def test_home_page_lists_each_gpu_item_with_its_outcome_on_the_gpu():
    # The table under "What ran on a GPU" must say, for every gpu item of the committed GPU report
    # log, what that run did with it: a reader must not have to read JSON to know.
    sys.path.insert(0, str(ROOT / "tests" / "gpu"))
    from check_reports import gpu_outcomes

    reports = sorted((ROOT / "reports" / "verified").glob("pytest-report-gpu-*.jsonl"))
    assert reports, "reports/verified/ holds no GPU report log (tests/gpu/place_results.py puts one there)"
    rows = [line for line in (ROOT / "docs/index.md").read_text().splitlines()
            if line.startswith("| ") and line.count("|") == 4]
    for node, (outcome, _) in gpu_outcomes(reports).items():
        path, _, _ = node.partition("::")
        if path.startswith("snippets/"):
            matching = [r for r in rows if f"`{Path(path).name}`" in r]
        else:  # a fence: its row says "(fence)" and links the page
            page = path.removeprefix("docs/")
            matching = [r for r in rows if "(fence)" in r and f"]({page}" in r]
        assert matching, f"docs/index.md: no row for the gpu item {node}"
        assert any(r.split("|")[3].strip().startswith(outcome) for r in matching), \
            f"docs/index.md: the row of {node} does not say '{outcome}'"
