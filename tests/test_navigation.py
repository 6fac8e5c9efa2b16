"""Tests of what helps a reader find their way: one set of content-tab labels, the theme features
that navigation relies on, the glossary and the abbreviations with tooltips, the "Report a problem
with this example" link on every page, and long scripts folded under their key lines.

The checks on the Markdown need no build; those on the HTML use tests/conftest.py's ``built_site``
(one ``mkdocs build --strict`` per test run).
"""

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ABBREVIATIONS = ROOT / "includes" / "abbreviations.md"
GLOSSARY = DOCS / "glossary.md"
# The labels every content tab uses: with content.tabs.link, a reader's choice of "GPU" on one page
# opens every other set on "GPU" too, which works only when the labels are exactly the same text.
TAB_LABELS = ("CPU", "GPU")
TAB = re.compile(r"""^\s*===\+?\s+(?P<quote>["'])(?P<label>.*)(?P=quote)\s*$""")
# A script longer than this, included whole, sits folded in a collapsible block under its key lines.
FOLD_OVER_LINES = 80
# Theme features the site's navigation uses (mkdocs.yml theme.features).
FEATURES = ("content.tabs.link", "navigation.path", "content.tooltips", "navigation.footer",
            "navigation.top", "search.highlight", "content.code.annotate", "content.code.copy")


class _Loader(yaml.SafeLoader):
    """mkdocs.yml as YAML, with MkDocs' ``!!python/name:`` and ``!ENV`` tags read as plain values."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", lambda loader, suffix, node: suffix)
_Loader.add_constructor("!ENV", lambda loader, node: None)


def _config() -> dict:
    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_Loader)


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _outside_fences(text: str):
    """``(line number, line)`` of each line of Markdown that is not inside a code fence."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        match = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence) and not line.strip()[len(fence):].strip():
            fence = None
        elif fence is None:
            yield number, line


def test_every_content_tab_is_labelled_cpu_or_gpu():
    offenders, labels = [], 0
    for page in _pages():
        for number, line in _outside_fences(page.read_text("utf8")):
            match = TAB.match(line)
            if match:
                labels += 1
                if match.group("label") not in TAB_LABELS:
                    offenders.append(f"{_rel(page)}:{number}: tab {match.group('label')!r}")
    assert labels, "no content tab found in docs/: the label pattern no longer matches `=== \"CPU\"`"
    assert not offenders, (
        f"content tabs must be labelled exactly {' or '.join(map(repr, TAB_LABELS))}, so that the "
        "reader's choice carries to every page (content.tabs.link); put a qualifier such as "
        "'(QLoRA)' in the tab's first sentence or the snippet's title:\n" + "\n".join(offenders))


def test_theme_has_the_navigation_features():
    features = _config()["theme"]["features"]
    missing = [name for name in FEATURES if name not in features]
    assert not missing, f"mkdocs.yml theme.features lacks {', '.join(missing)}"


def _abbreviations() -> dict[str, str]:
    """The abbreviations file as ``{abbreviation: meaning}``."""
    found = dict(re.findall(r"^\*\[([^\]]+)\]:\s*(.+?)\s*$", ABBREVIATIONS.read_text("utf8"), re.M))
    assert found, f"{_rel(ABBREVIATIONS)}: no `*[ABBR]: meaning` line"
    return found


def test_abbreviations_are_appended_to_every_page_from_outside_docs():
    snippets = next(e["pymdownx.snippets"] for e in _config()["markdown_extensions"]
                    if isinstance(e, dict) and "pymdownx.snippets" in e)
    assert "includes/abbreviations.md" in snippets.get("auto_append", []), (
        "mkdocs.yml: pymdownx.snippets auto_append must name includes/abbreviations.md")
    assert "abbr" in _config()["markdown_extensions"], "mkdocs.yml: the abbr extension is off"
    # Outside docs/: not a page of its own, and never read by the test harness as a page.
    assert DOCS not in ABBREVIATIONS.parents


def _glossary_terms() -> list[tuple[int, str]]:
    """``(line, term)`` of each definition-list term of the glossary (``{ #id }`` removed)."""
    lines = GLOSSARY.read_text("utf8").split("\n")
    return [(n + 1, re.sub(r"\s*\{[^}]*\}\s*$", "", line).strip()) for n, line in enumerate(lines)
            if line.strip() and not line.startswith((" ", "#", "-", "*", "<")) and n + 1 < len(lines)
            and lines[n + 1].startswith(":   ")]


def test_every_abbreviation_has_a_glossary_entry():
    terms = [term for _, term in _glossary_terms()]
    assert len(terms) >= 30, f"{_rel(GLOSSARY)}: only {len(terms)} terms found"
    missing = [abbr for abbr in _abbreviations()
               if not any(re.search(rf"(?<!\w){re.escape(abbr)}(?!\w)", term) for term in terms)]
    assert not missing, (f"{_rel(ABBREVIATIONS)}: abbreviations without an entry in {_rel(GLOSSARY)}: "
                         + ", ".join(missing))


def test_every_glossary_entry_links_a_page():
    text = GLOSSARY.read_text("utf8").split("\n")
    offenders = []
    for line, term in _glossary_terms():
        definition = []
        for body in text[line:]:
            if body.strip() and not body.startswith((":   ", "    ")):
                break
            definition.append(body)
        if not re.search(r"\]\((?!https?:)[^)]+\)", "\n".join(definition)):
            offenders.append(f"{_rel(GLOSSARY)}:{line}: {term!r} links no page of the site")
    assert not offenders, "\n".join(offenders)


def test_glossary_links_resolve_in_the_built_site(built_site):
    page = built_site / "glossary" / "index.html"
    content = page.read_text()
    links = re.findall(r'<dd>.*?</dd>', content, re.S)
    hrefs = [html.unescape(h) for dd in links for h in re.findall(r'href="([^"]+)"', dd)]
    local = [h for h in hrefs if not urlsplit(h).scheme]
    assert len(local) >= 30, f"glossary/: only {len(local)} links to pages of the site"
    broken = []
    for href in local:
        path, _, anchor = href.partition("#")
        target = (page.parent / unquote(path)).resolve()
        target = target / "index.html" if target.is_dir() else target
        if not target.exists():
            broken.append(f"{href}: no page {target}")
        elif anchor and f'id="{anchor}"' not in target.read_text():
            broken.append(f"{href}: no element #{anchor} on {target.relative_to(built_site)}")
    assert not broken, "docs/glossary.md: links that do not resolve:\n" + "\n".join(broken)


def test_abbreviations_show_as_tooltips_and_never_inside_code(built_site):
    pages = sorted(built_site.rglob("index.html"))
    with_abbr, in_code = [], []
    for page in pages:
        content = page.read_text()
        if "<abbr title=" in content:
            with_abbr.append(page)
        for block in re.finditer(r"<(pre|code)\b.*?</\1>", content, re.S):
            if "<abbr" in block.group(0):
                in_code.append(f"{page.relative_to(built_site)}: {block.group(0)[:120]}")
    assert len(with_abbr) > len(pages) // 2, f"only {len(with_abbr)} of {len(pages)} pages show an abbreviation"
    peft = (built_site / "basics/peft/index.html").read_text()
    assert f'<abbr title="{html.escape(_abbreviations()["LoRA"])}">LoRA</abbr>' in peft
    assert not in_code, "abbreviations inside code:\n" + "\n".join(in_code)


def _report_link(built_site: Path, folder: str) -> dict[str, str]:
    """The prefilled new-issue link of the page built at ``folder``: its URL parts and query fields."""
    content = (built_site / folder / "index.html").read_text()
    match = re.search(r'<p class="llm-report">\s*<a href="([^"]+)"', content)
    assert match, f"{folder or 'home'}: no 'Report a problem with this example' link (overrides/main.html)"
    url = urlsplit(html.unescape(match.group(1)))
    fields = {key: values[0] for key, values in parse_qs(url.query, strict_parsing=True).items()}
    return {"url": f"{url.scheme}://{url.netloc}{url.path}", **fields}


@pytest.mark.parametrize(("folder", "source", "title"), [
    ("basics/peft", "docs/basics/peft/index.md", "PEFT (LoRA)"),
    ("training/deepspeed/pitfalls", "docs/training/deepspeed/pitfalls.md", "DeepSpeed pitfalls"),
])
def test_report_link_opens_a_prefilled_issue(built_site, folder, source, title):
    repo = _config()["repo_url"].rstrip("/")
    link = _report_link(built_site, folder)
    assert link["url"] == f"{repo}/issues/new"
    assert title in link["title"], link
    assert f"Path: {source}\n" in link["body"], link["body"]
    assert f"Source: {repo}/blob/main/{source}\n" in link["body"], link["body"]
    assert f"Page: {title}" in link["body"], link["body"]


def test_every_page_has_the_report_link(built_site):
    missing = [p.parent.relative_to(built_site).as_posix() for p in sorted(built_site.rglob("index.html"))
               if 'class="llm-report"' not in p.read_text()]
    assert not missing, "pages without the 'Report a problem with this example' link: " + ", ".join(missing)


# Long scripts that pages show as their key lines, with the whole script folded below them. A
# script over FOLD_OVER_LINES lines belongs here once its page is folded like these. (Not yet:
# training/megatron-lm/tp_mlp_from_scratch.py, whose page's notebook tests/test_downloads.py runs:
# the downloads hook must first leave `:key` excerpts out of notebooks, where they cannot run.)
FOLDED = (
    "snippets/basics/transformers/benchmark_trainer_precision_gpu.py",
    "snippets/optimization/bitsandbytes/benchmark_memory_and_error.py",
    "snippets/optimization/bitsandbytes/benchmark_memory_and_error_gpu.py",
    "snippets/optimization/flash-attention-2/benchmark_attention_memory.py",
    "snippets/optimization/flash-attention-2/benchmark_attention_memory_gpu.py",
    "snippets/optimization/triton-inference-server/benchmark_dynamic_batching.py",
    "snippets/optimization/vllm/benchmark_throughput.py",
    "snippets/optimization/vllm/paged_attention_sim.py",
)
INCLUDE_LINE = re.compile(r"""^(?P<indent>\s*)-+8<-+\s+["'](?P<path>snippets/[^"':]+)(?::(?P<section>[\w-]+))?["']\s*$""")
FOLD = re.compile(r"""^(?P<indent>\s*)\?\?\?\+?\s+example\s+"Full script: (?P<name>[^"]+)"\s*$""")


def test_long_scripts_show_their_key_lines_and_fold_the_rest():
    """Each of FOLDED is shown as its ``:key`` section (``# --8<-- [start:key]`` ... ``[end:key]``
    in the file), followed by a collapsed ``??? example "Full script: name.py"`` that holds the
    whole include; the harness runs the file and compares its output either way."""
    shown: dict[str, list[str]] = {path: [] for path in FOLDED}
    for page in _pages():
        lines = page.read_text("utf8").split("\n")
        for number, line in enumerate(lines, 1):
            match = INCLUDE_LINE.match(line)
            if not match or match.group("path") not in shown:
                continue
            path, section, name = match.group("path"), match.group("section"), Path(match.group("path")).name
            where = f"{_rel(page)}:{number}"
            if section == "key":
                shown[path].append(f"{where} key")
                continue
            indent = len(match.group("indent"))
            fold = next((FOLD.match(l) for l in reversed(lines[:number - 1])
                         if l.strip() and len(l) - len(l.lstrip()) < indent), None)
            if fold and fold.group("name") == name:
                shown[path].append(f"{where} folded")
            else:
                shown[path].append(f'{where} open, not inside ??? example "Full script: {name}"')
    offenders = []
    for path, seen in shown.items():
        lines = len((ROOT / path).read_text("utf8").splitlines())
        kinds = [entry.split(" ", 1)[1] for entry in seen]
        if lines <= FOLD_OVER_LINES or kinds.count("key") != 1 or kinds.count("folded") != 1 or len(kinds) != 2:
            offenders.append(f"{path} ({lines} lines): {'; '.join(seen) or 'not included'}")
    assert not offenders, (f"scripts of over {FOLD_OVER_LINES} lines show their key lines (`:key`) and "
                           "the whole script folded under them, once:\n" + "\n".join(offenders))
