"""MkDocs hook: a link to an anchor that moved from a topic's overview to one of its sub-pages still lands.

A topic is a folder of pages, ``docs/<section>/<topic>/``: its overview ``index.md`` (the URL
``/<section>/<topic>/``, which the topic's single page had before) and sub-pages beside it
(``pitfalls.md`` at ``/<section>/<topic>/pitfalls/``). When a section moves from the overview to
a sub-page, links elsewhere (bookmarks, other sites, search engines) still name the overview:
``/training/deepspeed/#under-zero-3-a-parameter-is-an-empty-tensor``.

For each overview that has sub-pages, this hook takes the anchors of the sub-pages' tables of
contents (every heading id, as the built pages have them) that the overview's own table of
contents lacks, and appends to the overview's content one small inline script holding the map
``{anchor: "pitfalls/#anchor"}`` (URLs relative to the overview). On load, and whenever the
hash changes, the script looks at the hash: when it names no element of the page and the map has
it, ``location.replace`` goes to the sub-page at that anchor. It requests nothing and loads no
file. Material's instant navigation re-runs the inline scripts of the content it injects, so
the script also runs when the overview is reached without a full page load; the map is kept per
path, so the one hash-change listener does nothing on other pages.

:func:`moved_anchors` reads the map back from a built page (``tests/test_links.py`` uses it).
"""

from __future__ import annotations

import json
import posixpath
import re

MARKER = "llm-study: anchors moved to sub-pages"  # the script's first comment, which moved_anchors() finds
OVERVIEW = re.compile(r"^(?P<folder>[^/]+/[^/]+)/index\.md$")  # docs/<section>/<topic>/index.md
SCRIPT = """<script>/* %s */
(function () {
  var moved = %s;
  var maps = window.llmStudyMovedAnchors = window.llmStudyMovedAnchors || {};
  maps[location.pathname] = moved;
  function follow() {
    var map = maps[location.pathname], id = decodeURIComponent(location.hash.slice(1));
    if (map && id && map[id] && !document.getElementById(id)) {
      location.replace(new URL(map[id], location.href).href);
    }
  }
  if (!window.llmStudyFollowsMovedAnchors) {
    window.llmStudyFollowsMovedAnchors = true;
    window.addEventListener("hashchange", follow);
  }
  follow();
})();
</script>"""
MAP = re.compile(r"/\* %s \*/\s*\(function \(\) \{\s*var moved = (\{.*?\});\n" % re.escape(MARKER), re.S)


def toc_ids(toc) -> list[str]:
    """Every anchor of a page's table of contents (MkDocs' ``page.toc``), depth first, in page order."""
    ids = []
    for link in toc or []:
        ids.append(link.id)
        ids += toc_ids(link.children)
    return ids


def relative_url(url: str, base: str) -> str:
    """``url`` relative to the page at ``base`` (both site-relative MkDocs page URLs, such as
    ``training/deepspeed/`` or ``training/deepspeed.html``): ``pitfalls/``, ``../fsdp/``."""
    here = base if base.endswith("/") else posixpath.dirname(base)
    rel = posixpath.relpath(url or ".", here or ".")
    return rel + "/" if url.endswith("/") and not rel.endswith("/") else rel


def moved_map(overview, sub_pages) -> dict[str, str]:
    """``{anchor: "<sub-page URL relative to the overview>#anchor"}``: each anchor of the sub-pages'
    tables of contents that the overview's lacks. An anchor on several sub-pages goes to the first."""
    on_overview = set(toc_ids(overview.toc))
    moved: dict[str, str] = {}
    for page in sub_pages:
        target = relative_url(page.url, overview.url)
        for anchor in toc_ids(page.toc):
            if anchor not in on_overview and anchor not in moved:
                moved[anchor] = f"{target}#{anchor}"
    return moved


def script(moved: dict[str, str]) -> str:
    """The inline ``<script>`` that sends a visit to a moved anchor on to its page (see the module)."""
    literal = json.dumps(moved, sort_keys=True).replace("<", "\\u003c")  # never a "</script>" inside
    return SCRIPT % (MARKER, literal)


def moved_anchors(html: str) -> dict[str, str]:
    """The map that :func:`script` put in a built page's HTML, or ``{}`` when the page has none."""
    match = MAP.search(html)
    return json.loads(match.group(1)) if match else {}


def on_page_context(context, page, config, nav):
    """Append the moved-anchor script to an overview with sub-pages.

    Runs once every page is rendered to HTML (MkDocs renders all pages before it builds any
    template), so the sub-pages' tables of contents are known here.
    """
    match = OVERVIEW.match(page.file.src_uri)
    if not match:
        return context
    folder = match.group("folder") + "/"
    sub_pages = [p for p in nav.pages if p is not page and p.file.src_uri.startswith(folder)]
    moved = moved_map(page, sub_pages)
    if moved:
        page.content = (page.content or "") + "\n" + script(moved)
    return context
