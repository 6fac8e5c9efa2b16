"""Links into the site never break: every page URL and anchor it ever published still resolves.

``tests/data/urls-before-topic-folders.txt`` lists every page URL of the site and every anchor on
it (each heading's ``id``, and each other element id that a page links to), as recorded from a
build before the topic pages became folders of pages (one ``/url/`` or ``/url/#anchor`` per line).
:func:`site_urls` writes such a list from any build. After the split, each line must still
resolve in a fresh strict build: the page exists at the same URL, and the anchor is an element of
that page, or the page's moved-anchor map (``overrides/hooks/anchors.py``, the script that sends
a visit to ``/training/deepspeed/#x`` on to the sub-page that now holds ``#x``) names a sub-page
that has it. That the script really redirects in a browser is tests/test_browser.py's.
"""

from __future__ import annotations

import importlib.util
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
BEFORE = ROOT / "tests" / "data" / "urls-before-topic-folders.txt"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _load_hook():
    """overrides/hooks/anchors.py as a module, loaded the way mkdocs loads hooks (by path)."""
    spec = importlib.util.spec_from_file_location("llm_study_anchors_hook", ROOT / "overrides" / "hooks" / "anchors.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _Page(HTMLParser):
    """The ids of a built page: of its headings, of all its elements, and the targets of its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
            if tag in HEADINGS:
                self.headings.append(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def page_url(site: Path, html: Path) -> str:
    """The URL path of a built page from the site root: ``/training/deepspeed/``, ``/``, ``/404.html``."""
    rel = html.relative_to(site).as_posix()
    return "/" + (rel[: -len("index.html")] if rel == "index.html" or rel.endswith("/index.html") else rel)


def read_pages(site: Path) -> dict[str, _Page]:
    """Every HTML page of a built site, by its URL path (:func:`page_url`)."""
    pages = {}
    for html in sorted(site.rglob("*.html")):
        parser = _Page()
        parser.feed(html.read_text("utf8"))
        pages[page_url(site, html)] = parser
    return pages


def site_urls(site: Path) -> list[str]:
    """Each page URL of a built site, then its anchors as ``url#id``: every heading id, and each
    other element id that a link of the site points at (ids that start with ``__``, generated
    per build by Material and pymdownx for tabs and code lines, are left out)."""
    pages = read_pages(site)
    anchors = {url: set(page.headings) for url, page in pages.items()}
    for url, page in pages.items():
        for href in page.links:
            target = urlsplit(urljoin(f"http://site{url}", href))
            fragment = unquote(target.fragment)
            if target.netloc == "site" and fragment and not fragment.startswith("__") and target.path in pages \
                    and fragment in pages[target.path].ids:
                anchors[target.path].add(fragment)
    return [line for url in sorted(pages) for line in [url, *(f"{url}#{a}" for a in sorted(anchors[url]))]]


def unresolved(lines: list[str], site: Path) -> list[str]:
    """The lines of a URL list (:func:`site_urls`'s form) that do not resolve in the built ``site``, each
    with why: a page that is gone, or an anchor that is neither on its page nor moved to a page that has it."""
    anchors = _load_hook()
    pages = read_pages(site)
    problems = []
    for line in lines:
        url, _, anchor = line.partition("#")
        if url not in pages:
            problems.append(f"{line}: no page at {url} in the new site")
            continue
        if not anchor or anchor in pages[url].ids:
            continue
        html = (site / url.lstrip("/") / ("" if url.endswith(".html") else "index.html")).read_text("utf8")
        moved = anchors.moved_anchors(html)
        if anchor not in moved:
            problems.append(f"{line}: #{anchor} is not on {url}, and {url} does not send it to another page")
            continue
        target = urlsplit(urljoin(f"http://site{url}", moved[anchor]))
        if target.path not in pages or unquote(target.fragment) not in pages[target.path].ids:
            problems.append(f"{line}: {url} sends #{anchor} to {moved[anchor]}, which has no such element")
    return problems


@pytest.fixture(scope="module")
def recorded() -> list[str]:
    lines = [line for line in BEFORE.read_text("utf8").splitlines() if line and not line.startswith("#")]
    assert len(lines) > 300, f"{BEFORE}: only {len(lines)} URLs and anchors recorded"
    return lines


def test_every_recorded_url_and_anchor_still_resolves(built_site, recorded):
    problems = unresolved(recorded, built_site)
    assert not problems, f"{len(problems)} of {len(recorded)} recorded URLs and anchors do not resolve " \
                         f"({BEFORE.relative_to(ROOT)}):\n" + "\n".join(problems)


def test_the_hook_maps_sub_page_anchors_the_overview_lacks():
    anchors = _load_hook()
    assert anchors.relative_url("training/deepspeed/pitfalls/", "training/deepspeed/") == "pitfalls/"
    assert anchors.relative_url("training/deepspeed/pitfalls.html", "training/deepspeed/index.html") == "pitfalls.html"

    class Link:
        def __init__(self, id, children=()):
            self.id, self.children = id, list(children)

    class Page:
        def __init__(self, url, *toc):
            self.url, self.toc = url, list(toc)

    overview = Page("t/x/", Link("x", [Link("what-it-is"), Link("pitfalls")]))
    pitfalls = Page("t/x/pitfalls/", Link("x-pitfalls", [Link("a-pitfall"), Link("pitfalls")]))
    gpu = Page("t/x/on-a-gpu/", Link("x-on-a-gpu", [Link("a-pitfall"), Link("measured-here")]))
    moved = anchors.moved_map(overview, [pitfalls, gpu])
    assert moved == {"x-pitfalls": "pitfalls/#x-pitfalls", "a-pitfall": "pitfalls/#a-pitfall",
                     "x-on-a-gpu": "on-a-gpu/#x-on-a-gpu", "measured-here": "on-a-gpu/#measured-here"}
    html = f"<article>...{anchors.script({'a</script>': 'p/#a'})}</article>"
    assert "a</script>" not in html and anchors.moved_anchors(html) == {"a</script>": "p/#a"}
    assert anchors.moved_anchors("<article>no script</article>") == {}
