"""Tests of the site build: `mkdocs build --strict` passes, and catches what it must catch."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE_SOURCES = ("mkdocs.yml", "docs", "snippets", "overrides")


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    """Run ``mkdocs build --strict`` on ``project`` into ``site``; returns the finished process.

    Not with ``-q``: mkdocs 1.6 counts warnings for ``--strict`` only at the levels it logs.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def copy_of_site(tmp_path: Path) -> Path:
    """The site's sources copied to a temporary folder, to break on purpose."""
    for name in SITE_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


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


@pytest.mark.parametrize("breakage, expected", [
    ("page_left_out_of_nav", "orphan.md"),
    ("missing_include", "could not be found"),
    ("dead_anchor", "#no-such-heading"),
    ("dead_link", "no-such-page.md"),
])
def test_strict_build_fails_on(copy_of_site, breakage, expected):
    page = copy_of_site / "docs/basics/index.md"
    if breakage == "page_left_out_of_nav":
        (copy_of_site / "docs/orphan.md").write_text("# Not in nav\n")
    elif breakage == "missing_include":
        page.write_text(page.read_text() + '\n```python\n--8<-- "snippets/basics/none/missing.py"\n```\n')
    elif breakage == "dead_anchor":
        page.write_text(page.read_text() + "\nSee [a heading](transformers.md#no-such-heading).\n")
    elif breakage == "dead_link":
        page.write_text(page.read_text() + "\nSee [a page](no-such-page.md).\n")
    result = build(copy_of_site, copy_of_site / "site")
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


def _cpu_benchmarks() -> list[Path]:
    return [p for p in sorted(ROOT.glob("snippets/*/*/benchmark_*.py"))
            if not p.read_text().startswith("# pytest: gpu")]


@pytest.mark.parametrize("script", _cpu_benchmarks(), ids=lambda p: p.relative_to(ROOT).as_posix())
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
