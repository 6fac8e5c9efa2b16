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


# `built_site` (one strict build of the real site per test run) is tests/conftest.py's.


def test_strict_build_passes(built_site):
    pages = {p.relative_to(built_site).as_posix() for p in built_site.rglob("index.html")}
    for page in ("index.html", "basics/transformers/index.html", "basics/tokenizers/index.html",
                 "basics/datasets/index.html", "basics/peft/index.html", "basics/peft/pitfalls/index.html",
                 "contributing/index.html"):
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
    # `nox -s measure` writes these two files; a page of the topic (docs/<section>/<topic>/, where the
    # plot is too) must show both under "Measured here".
    section, topic = script.relative_to(ROOT / "snippets").parts[:2]
    table = script.with_suffix(".out.txt")
    folder = ROOT / "docs" / section / topic
    plot = folder / f"{script.stem}.png"
    assert table.exists() and table.read_text().startswith("# measured "), f"{table}: run `nox -s measure`"
    assert plot.exists() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{plot}: run `nox -s measure`"
    include = f'--8<-- "{table.relative_to(ROOT).as_posix()}"'
    pages = [page for page in sorted(folder.glob("*.md")) if include in page.read_text()]
    assert pages, f"no page of docs/{section}/{topic}/ includes {table.name}"
    page, rel = pages[0].read_text(), pages[0].relative_to(ROOT).as_posix()
    assert f"]({plot.name})" in page, f"{rel} includes {table.name} but does not show {plot.name}"
    assert "nox -s measure" in page, f"{rel} does not say how to regenerate its figures"
    if script.read_text().startswith("# pytest: gpu"):  # the stamp names the GPU it ran on
        stamp = " ".join(line for line in table.read_text().splitlines() if line.startswith("# "))
        assert stamp.count(", 1 ") == 1, f"{table}: no GPU in its stamp"


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
        else:  # a fence: its row says "(fence)" and links a page of its topic
            folder = topic_folder(path)
            matching = [r for r in rows if "(fence)" in r and f"]({folder}" in r]
        assert matching, f"docs/index.md: no row for the gpu item {node}"
        assert any(r.split("|")[3].strip().startswith(outcome) for r in matching), \
            f"docs/index.md: the row of {node} does not say '{outcome}'"


def topic_folder(page: str) -> str:
    """The topic folder, under docs/, of a page path from the repository root: ``docs/basics/peft/pitfalls.md``
    -> ``basics/peft/``. A topic's page before topics became folders, ``docs/basics/peft.md`` (as the kept
    GPU report log names it), gives the same folder; another page gives its own path (``index.md``)."""
    rel = page.removeprefix("docs/")
    parts = rel.split("/")
    if len(parts) == 3:
        return f"{parts[0]}/{parts[1]}/"
    if len(parts) == 2 and parts[1] != "index.md":
        return f"{parts[0]}/{parts[1].removesuffix('.md')}/"
    return rel


# ---------------------------------------------------------------------------------------------
# Pages a reader can take in: no page over MAX_PROSE_WORDS words of prose
# ---------------------------------------------------------------------------------------------

MAX_PROSE_WORDS = 3200  # a topic that outgrows this is split into sub-pages (docs/contributing.md)
FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})(.*)$")


def prose(text: str) -> str:
    """``text`` without its fenced code blocks (fence lines included): at any indentation, opened by
    3 or more backticks or tildes and closed by a line of at least as many of the same character.
    Output blocks are fences too, so they are left out as well; a fence never closed runs to the end."""
    kept, fence = [], None
    for line in text.split("\n"):
        match = FENCE_LINE.match(line)
        if fence is None:
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = match.group(1)
            else:
                kept.append(line)
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not match.group(2).strip():
            fence = None
    return "\n".join(kept)


def prose_words(text: str) -> int:
    """The number of words (``\\w+`` runs) of a Markdown text outside its fenced code blocks."""
    return len(re.findall(r"\w+", prose(text)))


def test_prose_words_leave_out_every_kind_of_fence():
    text = ("# Title words\n\nOne two three.\n\n```python\nnot counted = 1\n```\n\n"
            "=== \"CPU\"\n\n    ```{.text .output}\n    not counted\n    ```\n\n"
            "````markdown\n```python\nnot counted\n```\nstill not counted\n````\n\n"
            "~~~\nnot counted\n~~~\n\nFour `code span` five.\n")
    assert prose_words(text) == 10, prose(text)  # Title words One two three CPU Four code span five


def test_no_page_is_over_the_prose_limit():
    counts = {page.relative_to(ROOT).as_posix(): prose_words(page.read_text("utf8"))
              for page in sorted((ROOT / "docs").rglob("*.md"))}
    over = [f"{page}:1: {words} words of prose, over {MAX_PROSE_WORDS}: move a group of sections to a sub-page "
            f"of its topic (docs/contributing.md, \"When a topic outgrows one page\")"
            for page, words in counts.items() if words > MAX_PROSE_WORDS]
    assert not over, "\n".join(over)
    assert counts["docs/basics/transformers/index.md"] > 2000, "the counter reads almost no prose on a topic page"


# ---------------------------------------------------------------------------------------------
# Pages a reader can take in: a summary card per topic, a meta description per page, a few
# shared tags, and a reading order per section
# ---------------------------------------------------------------------------------------------

# The tags a page may carry: the one place that lists them. A tag groups pages on docs/tags.md, so
# each must be on at least two pages; a new tag belongs here only when it will be.
TAGS = ("Basics", "Training", "Optimization", "Fine-tuning", "Distributed training", "Memory",
        "Quantization", "Inference", "Attention", "Data preparation", "Benchmark", "Pitfalls")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
CARD_OPENER = '!!! abstract llm-summary "At a glance"'


def front_matter(page: Path) -> dict:
    """The YAML front matter of a Markdown page, ``{}`` without one."""
    import yaml

    match = FRONT_MATTER.match(page.read_text("utf8"))
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def markdown_pages(root: Path) -> list[Path]:
    return sorted((root / "docs").rglob("*.md"))


def test_every_page_has_its_own_description():
    """Material writes ``description:`` to ``<meta name="description">``: what a search result shows."""
    findings, seen = [], {}
    for page in markdown_pages(ROOT):
        rel = page.relative_to(ROOT).as_posix()
        description = front_matter(page).get("description")
        if not isinstance(description, str) or not 50 <= len(description) <= 200:
            findings.append(f"{rel}:1: front matter needs `description:`, one specific sentence of 50 to 200 "
                            f"characters (it has {description!r})")
        elif description in seen:
            findings.append(f"{rel}:1: the same description as {seen[description]}; say what this page adds")
        else:
            seen[description] = rel
    assert not findings, "\n".join(findings)


def test_built_pages_have_distinct_meta_descriptions(built_site):
    """Every built page has a meta description, and no two the same. Notebook pages are left out:
    mkdocs-jupyter does not read a description from a notebook, so they get site_description."""
    notebooks = {p.relative_to(ROOT / "docs").with_suffix("").as_posix() + "/index.html"
                 for p in (ROOT / "docs").rglob("*.ipynb")}
    meta = re.compile(r'<meta name="description" content="([^"]*)"')
    found, missing = {}, []
    for path in sorted(built_site.rglob("index.html")):
        rel = path.relative_to(built_site).as_posix()
        if rel in notebooks:
            continue
        match = meta.search(path.read_text("utf8"))
        if not match or not match.group(1).strip():
            missing.append(rel)
        else:
            found.setdefault(match.group(1), []).append(rel)
    assert not missing, f"pages without a meta description: {missing}"
    shared = {text: pages for text, pages in found.items() if len(pages) > 1}
    assert not shared, f"pages that share a meta description: {shared}"
    assert len(found) >= 40, f"only {len(found)} pages read: the build holds fewer pages than the site has"


def test_tags_come_from_the_allowed_set_and_each_is_shared():
    assert 8 <= len(TAGS) <= 12 and len(set(TAGS)) == len(TAGS), "keep the tags to a useful few (8 to 12)"
    used: dict[str, list[str]] = {tag: [] for tag in TAGS}
    findings = []
    for page in markdown_pages(ROOT):
        rel = page.relative_to(ROOT).as_posix()
        tags = front_matter(page).get("tags") or []
        for tag in tags:
            if tag in used:
                used[tag].append(rel)
            else:
                findings.append(f"{rel}:1: tag {tag!r} is not one of tests/test_site.py's TAGS {list(TAGS)}; "
                                "use those (a page's section, and what it is about)")
        if len(set(tags)) != len(tags):
            findings.append(f"{rel}:1: a tag twice: {tags}")
    findings += [f"tag {tag!r} is on {len(pages)} page(s) {pages}: a tag must group at least two pages"
                 for tag, pages in used.items() if len(pages) < 2]
    assert not findings, "\n".join(findings)


def test_every_topic_overview_opens_with_its_summary_card():
    """Right under the title: the card, with 3 to 5 linked things to learn and linked prerequisites.
    The hook (overrides/hooks/verification.py) adds the time to run and the verification line."""
    findings = []
    for page in sorted((ROOT / "docs").glob("*/*/index.md")):
        rel = page.relative_to(ROOT).as_posix()
        text = FRONT_MATTER.sub("", page.read_text("utf8"))
        lines = text.split("\n")
        at = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
        opener = next((i for i in range(at + 1, len(lines)) if lines[i].strip()), None) if at is not None else None
        if opener is None or lines[opener] != CARD_OPENER:
            findings.append(f"{rel}: the first block under the title must be the summary card `{CARD_OPENER}`")
            continue
        body = []
        for line in lines[opener + 1:]:
            if line.strip() and not line.startswith("    "):
                break
            body.append(line)
        card = "\n".join(body)
        learn = card.split("**What you will learn**", 1)[-1].split("**Prerequisites:**", 1)[0]
        bullets = re.findall(r"^    - (.*)$", learn, re.M)
        if "**What you will learn**" not in card or not 3 <= len(bullets) <= 5:
            findings.append(f"{rel}: the card needs **What you will learn** with 3 to 5 bullets ({len(bullets)})")
        findings += [f"{rel}: card bullet without a link to the section or page that teaches it: {b}"
                     for b in bullets if not re.search(r"\]\([^)]+\)", b)]
        prerequisites = card.split("**Prerequisites:**", 1)
        if len(prerequisites) < 2 or not re.search(r"\]\([^)]+\)", prerequisites[1]):
            findings.append(f"{rel}: the card needs **Prerequisites:** with at least one link")
    assert not findings, "\n".join(findings)


def test_built_topic_cards_show_the_time_to_run_and_the_verification_line(built_site):
    card = re.compile(r'<div class="admonition abstract llm-summary">(.*?)</div>', re.S)
    findings = []
    for page in sorted((ROOT / "docs").glob("*/*/index.md")):
        rel = page.relative_to(ROOT / "docs").parent.as_posix() + "/index.html"
        match = card.search((built_site / rel).read_text("utf8"))
        if not match:
            findings.append(f"{rel}: no summary card")
        elif "<strong>Time to run:</strong>" not in match.group(1) or 'class="llm-verification' not in match.group(1):
            findings.append(f"{rel}: the card lacks the hook's time to run or verification line")
    assert not findings, "\n".join(findings)


def test_section_indexes_give_a_reading_order_and_the_home_page_links_it():
    home = (ROOT / "docs/index.md").read_text("utf8")
    findings = []
    for index in sorted((ROOT / "docs").glob("*/index.md")):
        section = index.parent.name
        text = index.read_text("utf8")
        order = re.search(r"^## Reading order\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        if not order:
            findings.append(f"docs/{section}/index.md: no `## Reading order` section")
            continue
        steps = re.findall(r"^\d+\. \*\*\[[^\]]+\]\(([^)]+)\)\*\*: \*[^*]+\?\*", order.group(1), re.M)
        topics = sorted(p.parent.name for p in index.parent.glob("*/index.md"))
        listed = [link.split("/")[0] for link in steps]
        findings += [f"docs/{section}/index.md: the reading order does not list {topic}/index.md as "
                     "`N. **[Title](topic/index.md)**: *the question it answers?* why it comes there`"
                     for topic in topics if f"{topic}" not in listed]
        if f"({section}/index.md#reading-order)" not in home:
            findings.append(f"docs/index.md: no link to the learning path of {section} "
                            f"({section}/index.md#reading-order)")
    assert not findings, "\n".join(findings)
