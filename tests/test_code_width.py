"""Code that fits the page: every line of Python the site shows is at most LIMIT characters long.

``docs/stylesheets/extra.css`` sizes the content column and the code font so that a Python block
shows LIMIT characters beside its copy button, without scrolling sideways, in a browser window
1280 px wide or wider. The static tests hold the code to that length: every line of every
``snippets/**/*.py`` file (the scripts the pages include), of every Python fence of
``docs/**/*.md`` (with the indentation of content tabs and admonitions removed, as the harness
reads them) and of every code cell of the ``docs/**/*.ipynb`` walkthroughs. Output blocks,
``.out.txt`` files and blocks in other languages are not held to it.

The browser test builds a one-page site with the project's theme, Markdown extensions and
stylesheet, serves it on 127.0.0.1 and measures in Debian's ``chromium`` (launched as
``tests/test_browser.py`` launches it) that a LIMIT-character line fits in a plain block, a
content tab, an admonition and a collapsed ``???`` block, with the copy button clear of the
text, and that a longer line does scroll (so the measurement can fail).
"""

import contextlib
import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pytest_markdown_docs.plugin import parse_superfences_block_info

from harness import INCLUDE, PYTHON, ContainerAwareMarkdownIt

ROOT = Path(__file__).resolve().parents[1]
# At most this many characters per line: with extra.css, 102 fit in a 1280 px window and 101 in
# one with a 16 px scrollbar, in DejaVu Sans Mono (Material's code font falls back to it on Linux;
# Consolas, SF Mono and Menlo are as narrow or narrower). Change the CSS and this number together.
LIMIT = 100


def _too_long(lines: list[str], where) -> list[str]:
    """``where(i): N characters (limit LIMIT)`` for each line longer than LIMIT (``i`` counts from 0)."""
    return [f"{where(i)}: {len(line)} characters (limit {LIMIT})"
            for i, line in enumerate(lines) if len(line) > LIMIT]


def snippet_offenders(root: Path = ROOT) -> list[str]:
    """``snippets/...py:LINE: N characters (limit LIMIT)`` for each line of a snippet over LIMIT.

    Symbolic links (a model file shared by two Triton repositories) are checked once, where they
    point to.
    """
    out = []
    for path in sorted((root / "snippets").rglob("*.py")):
        if path.is_symlink() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        out += _too_long(path.read_text("utf8").splitlines(), lambda i: f"{rel}:{i + 1}")
    return out


def page_offenders(root: Path = ROOT) -> list[str]:
    """``docs/...md:LINE: N characters (limit LIMIT)`` for each over-long line of a Python fence.

    LINE is the line in the ``.md`` file; the length is counted without the indentation of the
    content tab or admonition around the fence. Snippet-include wrappers are left to
    :func:`snippet_offenders`; output blocks and other languages are not Python fences.
    """
    out = []
    for page in sorted((root / "docs").rglob("*.md")):
        rel = page.relative_to(root).as_posix()
        for token in ContainerAwareMarkdownIt("commonmark").parse(page.read_text("utf8")):
            if token.type != "fence" or not token.map:
                continue
            info = parse_superfences_block_info(token.info)
            if not info or info[0] not in PYTHON:
                continue
            body = token.content.splitlines()
            if all(INCLUDE.match(line) for line in body if line.strip()):
                continue
            first = token.map[0] + 2  # the line after the opening fence, 1-based
            out += _too_long(body, lambda i: f"{rel}:{first + i}")
    return out


def notebook_offenders(root: Path = ROOT) -> list[str]:
    """``docs/...ipynb: cell C, line N: M characters (limit LIMIT)`` for over-long code-cell lines.

    C counts every cell of the notebook from 1, as Jupyter shows them.
    """
    out = []
    for notebook in sorted((root / "docs").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        rel = notebook.relative_to(root).as_posix()
        for number, cell in enumerate(json.loads(notebook.read_text("utf8"))["cells"], start=1):
            if cell["cell_type"] == "code":
                lines = "".join(cell["source"]).splitlines()
                out += _too_long(lines, lambda i: f"{rel}: cell {number}, line {i + 1}")
    return out


def _report(offenders: list[str], what: str) -> str:
    return (f"{len(offenders)} lines of {what} are longer than {LIMIT} characters and scroll "
            f"sideways at 1280 px; wrap them:\n" + "\n".join(offenders))


def test_snippet_lines_fit():
    if offenders := snippet_offenders():
        pytest.fail(_report(offenders, "snippets/**/*.py"), pytrace=False)


def test_page_fence_lines_fit():
    if offenders := page_offenders():
        pytest.fail(_report(offenders, "Python fences in docs/**/*.md"), pytrace=False)


def test_notebook_code_lines_fit():
    if offenders := notebook_offenders():
        pytest.fail(_report(offenders, "notebook code cells"), pytrace=False)


def test_the_rule_finds_long_lines(tmp_path):
    (tmp_path / "snippets/t/x").mkdir(parents=True)
    (tmp_path / "snippets/t/x/a.py").write_text("ok = 1\n" + "x = " + "1" * (LIMIT - 3) + "\n")
    (tmp_path / "docs/t").mkdir(parents=True)
    long = "y = " + "2" * (LIMIT - 3)
    (tmp_path / "docs/t/p.md").write_text(
        "# P\n\n=== \"Tab\"\n\n    ```python\n    " + long + "\n    ```\n\n"
        "```{.text .output}\n" + long + "\n```\n\n```bash\n" + long + "\n```\n\n"
        "```python\n--8<-- \"snippets/t/x/a.py\"\n```\n\n"
        "```python\n" + "z" * LIMIT + "\n```\n")
    (tmp_path / "docs/t/n.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["w" * (LIMIT + 5)]},
        {"cell_type": "code", "source": ["a = 1\n", "b = " + "3" * (LIMIT - 3)]}]}))
    assert snippet_offenders(tmp_path) == [f"snippets/t/x/a.py:2: {LIMIT + 1} characters (limit {LIMIT})"]
    # The tab's fence: its line 6 holds the long line, 4 spaces of tab indentation not counted.
    assert page_offenders(tmp_path) == [f"docs/t/p.md:6: {LIMIT + 1} characters (limit {LIMIT})"]
    assert notebook_offenders(tmp_path) == [
        f"docs/t/n.ipynb: cell 2, line 2: {LIMIT + 1} characters (limit {LIMIT})"]


# ---------------------------------------------------------------------------------------------
# In the browser
# ---------------------------------------------------------------------------------------------

FITS = "x = " + "".join(str(i % 10) for i in range(LIMIT - 7)) + "  #"  # exactly LIMIT characters
TOO_LONG = FITS + " " + FITS  # more than fits at any width
# Each block holds one marker line; the page puts it in each kind of container a page uses.
TEST_PAGE = f"""# Code width

```python
{FITS}
```

=== "In a tab"

    ```python
    {FITS}
    ```

!!! note "In an admonition"

    ```python
    {FITS}
    ```

??? example "In a collapsed block"

    ```python title="folded.py"
    {FITS}
    ```

```python
{TOO_LONG}
```
"""
# Viewport widths: a 1280 px window less a 16 px classic scrollbar, a 1280 px one, and wider ones
# (from 1440 px extra.css leaves Material's own sizes, and from 1600 px Material scales the font).
WIDTHS = [1264, 1280, 1366, 1440, 1920, 2560]
MEASURE = """(limit) => [...document.querySelectorAll('.md-content pre > code')].map((code) => {
  code.closest('details')?.setAttribute('open', '');
  const line = [...code.textContent.split('\\n')].reduce((a, b) => (b.length > a.length ? b : a));
  // A line of `limit` characters, added for a moment. Material's code element is a grid whose
  // items (the line spans) take the whole width: the inner span's box is the text's own.
  const line_ = document.createElement('span'), probe = document.createElement('span');
  probe.textContent = 'x'.repeat(limit);
  line_.append(probe);
  code.append(line_);
  const text = probe.getBoundingClientRect();
  line_.remove();
  const nav = code.closest('.highlight').querySelector('.md-code__nav');
  const box = code.closest('details, .admonition, .tabbed-block');
  const where = !box ? 'on the page' : box.matches('details') ? 'in a collapsed block'
    : box.matches('.admonition') ? 'in an admonition' : 'in a content tab';
  return {where, length: line.length,
          scrolls: code.scrollWidth > code.clientWidth,
          clear_px: nav ? Math.round(nav.getBoundingClientRect().left - text.right) : null};
})"""


@contextlib.contextmanager
def served_site(folder: Path, files: dict[str, str | bytes]):
    """Build a site of ``files`` (path under ``docs/`` -> text or bytes) and serve it on 127.0.0.1.

    The site is built with the project's ``mkdocs.yml``, strict, in ``folder``: only the pages
    (the ``.md`` files, in nav in the order given), the hooks and the plugins differ, so the
    theme, the Markdown extensions and ``docs/stylesheets/extra.css`` are the real ones. Yields
    the site's URL; the server stops when the ``with`` block ends.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    docs = folder / "docs"
    files = {"stylesheets/extra.css": (ROOT / "docs/stylesheets/extra.css").read_text(), **files}
    for name, content in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    nav = [{Path(name).stem: name} for name in files if name.endswith(".md")]
    config = load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(folder / "site"),
                         nav=nav, hooks=[], plugins=[], strict=True)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    finally:
        config.plugins.on_shutdown()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder / "site")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def width_site(tmp_path_factory) -> str:
    """The URL of a one-page site, TEST_PAGE, built as the real site is (see :func:`served_site`)."""
    with served_site(tmp_path_factory.mktemp("width"), {"index.md": TEST_PAGE}) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, as tests/test_browser.py launches it (and skips or fails as it does)."""
    import test_browser  # skips (or, with LLM_STUDY_REQUIRE_BROWSER=1, fails) without playwright

    if not test_browser.CHROMIUM.exists():
        if test_browser.REQUIRED:
            pytest.fail(f"LLM_STUDY_REQUIRE_BROWSER=1 but {test_browser.NO_CHROMIUM}", pytrace=False)
        pytest.skip(test_browser.NO_CHROMIUM)
    with test_browser.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(test_browser.CHROMIUM), headless=True,
                                              args=test_browser.LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_limit_fits_beside_the_copy_button(browser, width_site, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(width_site)
        page.wait_for_function("() => document.querySelectorAll('.md-code__nav').length >= 5")
        blocks = page.evaluate(MEASURE, LIMIT)
    finally:
        context.close()
    fits = [b for b in blocks if b["length"] == LIMIT]
    assert len(fits) == 4 and [b["length"] for b in blocks].count(len(TOO_LONG)) == 1, blocks
    for block in fits:
        where = f"at {width} px, a {LIMIT}-character line of Python {block['where']}"
        assert not block["scrolls"], f"{where} scrolls sideways: docs/stylesheets/extra.css"
        assert block["clear_px"] >= 0, (
            f"{where} runs {-block['clear_px']} px under the copy button: the padding-right of "
            f"`.md-typeset pre > code` in docs/stylesheets/extra.css")
    assert blocks[-1]["scrolls"], (
        f"at {width} px a {len(TOO_LONG)}-character line does not scroll: this test no longer "
        f"sees overflow, so its other checks prove nothing")
