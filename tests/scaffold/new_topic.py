"""Start a new topic: ``nox -s new -- <section>/<slug> ["Title"]`` (standard library only).

``nox -s new -- training/ring-attention "Ring attention"`` writes

* ``docs/training/ring-attention/index.md``, the topic's overview page (a topic is a folder, which
  gets sub-pages when it outgrows one page), from the topic template ``tests/scaffold/topic.md`` (the
  outline every topic overview keeps; tests/test_contract.py reads its sections from there);
* ``snippets/training/ring-attention/first_example.py``, a first snippet that the page includes;
* its nav entry, a section of its own whose index is the overview, at the end of the section's
  list in ``mkdocs.yml`` (two lines inserted; the rest of the file, comments included, is left as it is);
* its row in the topic table of ``docs/training/index.md``.

The page and snippet pass as they are (one fence, one snippet include, each with a checked output
block); their prose is placeholders, each starting with ``To write:``, which tests/test_contract.py
refuses to see on a finished page. The title defaults to the slug in sentence case
(``ring-attention`` gives "Ring attention").

Nothing is written unless everything can be: an unknown section, a slug that is not lowercase words
joined by hyphens, a topic that already exists (its overview, its snippet folder or a nav entry) and a
nav that cannot be edited by line all stop the command with exit status 1 and a message, before any
file changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "topic.md"  # the page; ${title}, ${title_yaml}, ${section}, ${section_title}, ${slug}
SNIPPET = HERE / "first_example.py"  # copied as it is
PLACEHOLDER = "To write:"  # starts every placeholder of the page and snippet
SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# A nav line that names a section's index page: `      - training/index.md` (or `- Title: training/index.md`).
SECTION_INDEX = re.compile(r"^(?P<indent> *)- (?:[^\n]*?:\s+)?(?P<section>[a-z0-9-]+)/index\.md\s*$")
NAV_TITLE = re.compile(r"^ *- (?P<title>.+?):\s*$")  # `  - Training:`, the line that opens a section
# A row of a section index's topic table: `| [FSDP](fsdp/index.md) | ... |`.
STEP = re.compile(r"^(?P<number>\d+)\. ")  # a numbered step of a reading order
INDEX_ROW = re.compile(r"^\| \[[^\]]+\]\([a-z0-9-]+/index\.md\) \|")
PLAIN_YAML = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+/,'-]*")  # a title that needs no quotes in YAML
USAGE_EXAMPLE = 'nox -s new -- training/ring-attention "Ring attention"'


class ScaffoldError(Exception):
    """Why a topic cannot be created; the command prints it and exits with status 1."""


@dataclasses.dataclass
class Topic:
    """What one run writes: each path (relative to the project root) and its full new text."""

    section: str
    slug: str
    title: str
    files: dict[str, str]  # path -> text; new files and edited ones
    index_edited: bool


def default_title(slug: str) -> str:
    """The slug in sentence case: ``ring-attention`` -> ``Ring attention``."""
    words = slug.split("-")
    return " ".join([words[0].capitalize(), *words[1:]])


def yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain where YAML reads it back unchanged, else double-quoted."""
    return text if PLAIN_YAML.fullmatch(text) and not text.endswith(" ") else json.dumps(text, ensure_ascii=False)


def sections(nav_text: str) -> dict[str, tuple[int, str]]:
    """The nav's sections: folder -> (0-based line of its ``<folder>/index.md`` entry, nav title).

    A section is a nav entry whose first child is ``<folder>/index.md`` (``navigation.indexes``);
    its title is the ``- Title:`` line that opens it.
    """
    found = {}
    lines = nav_text.splitlines()
    for i, line in enumerate(lines):
        match = SECTION_INDEX.match(line)
        if not match:
            continue
        opener = NAV_TITLE.match(lines[i - 1]) if i else None
        title = opener.group("title").strip("'\"") if opener else match.group("section").capitalize()
        found[match.group("section")] = (i, title)
    return found


def add_nav_entry(nav_text: str, section: str, title: str, slug: str) -> str:
    """``mkdocs.yml``'s text with the topic's nav section after the section's last page::

        - <title>:
            - <title>: <section>/<slug>/index.md

    (the topic's overview as the index of its own nav section, where its sub-pages will go). The
    section's entries are the lines after its ``index.md`` entry indented at least as deep; the new
    lines take that indentation and go after the last of them that names a Markdown page (a topic's
    last sub-page, say), so that topics stay ahead of the section's walkthrough notebook (or after
    the index entry).

    Raises:
        ScaffoldError: the section has no ``<section>/index.md`` entry.
    """
    known = sections(nav_text)
    if section not in known:
        raise ScaffoldError(f"mkdocs.yml: no nav entry `{section}/index.md` opens the section; "
                            "add the page to nav by hand")
    lines = nav_text.splitlines(keepends=True)
    start = known[section][0]
    indent = SECTION_INDEX.match(lines[start]).group("indent")
    last = start
    for i in range(start + 1, len(lines)):
        if not lines[i].strip():
            continue
        if len(lines[i]) - len(lines[i].lstrip(" ")) < len(indent):
            break
        if lines[i].rstrip().endswith(".md"):
            last = i
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines[last + 1:last + 1] = [f"{indent}- {yaml_scalar(title)}:\n",
                                f"{indent}    - {yaml_scalar(title)}: {section}/{slug}/index.md\n"]
    return "".join(lines)


def add_index_row(index_text: str, title: str, slug: str) -> str | None:
    """The section index's text with a row for the topic after the last row of its topic table.

    Returns None when the index has no topic table (no ``| [Title](topic/index.md) |`` row).
    """
    lines = index_text.splitlines(keepends=True)
    rows = [i for i, line in enumerate(lines) if INDEX_ROW.match(line)]
    if not rows:
        return None
    if not lines[rows[-1]].endswith("\n"):
        lines[rows[-1]] += "\n"
    lines.insert(rows[-1] + 1, f"| [{title}]({slug}/index.md) | {PLACEHOLDER} what a reader learns on this page, "
                               "in one sentence. |\n")
    return add_reading_order_step("".join(lines), title, slug)


def add_reading_order_step(index_text: str, title: str, slug: str) -> str:
    """The section index's text with the topic as a numbered step of its ``## Reading order``
    (``N. **[Title](slug/index.md)**: *question?* why``, the form tests/test_site.py checks): after
    the last topic, ahead of a closing step that links a notebook (the walkthrough stays last,
    renumbered), or the text unchanged when the index has no such section or no numbered step."""
    lines = index_text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "## Reading order"), None)
    if start is None:
        return index_text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    steps = [i for i in range(start + 1, end) if STEP.match(lines[i])]
    if not steps:
        return index_text
    notebooks = [i for i in steps if ".ipynb)" in lines[i]]
    if notebooks and notebooks[0] > steps[0]:
        at = notebooks[0]  # ahead of the walkthrough, which takes the next number
        number = int(STEP.match(lines[at]).group("number"))
        for i in (i for i in steps if i >= at):
            step = STEP.match(lines[i])
            lines[i] = f"{int(step.group('number')) + 1}. " + lines[i][step.end():]
    else:
        at = steps[-1] + 1
        while at < end and lines[at].strip():
            at += 1  # after the last step's wrapped lines
        if not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        number = int(STEP.match(lines[steps[-1]]).group("number")) + 1
    lines.insert(at, f"{number}. **[{title}]({slug}/index.md)**: *{PLACEHOLDER} the question this page "
                     f"answers?* {PLACEHOLDER} why it comes here.\n")
    return "".join(lines)


def plan(root: Path, target: str, title: str | None) -> Topic:
    """Check ``target`` (``<section>/<slug>``) against the project at ``root`` and compute every file.

    Raises:
        ScaffoldError: the target is malformed, its section unknown, its slug not lowercase words
            joined by hyphens, the topic already exists, or the title does not fit on one table row.
    """
    nav_text = (root / "mkdocs.yml").read_text("utf8")
    known = sections(nav_text)
    section, sep, slug = target.strip("/").partition("/")
    if not sep or "/" in slug:
        raise ScaffoldError(f"{target!r}: give the topic as <section>/<slug>, e.g. {USAGE_EXAMPLE}")
    if section not in known or not (root / "docs" / section / "index.md").is_file():
        raise ScaffoldError(f"unknown section {section!r}; the sections are {', '.join(sorted(known))} "
                            "(mkdocs.yml nav). A new section needs its docs/<section>/index.md and nav entry first")
    if not SLUG.fullmatch(slug):
        raise ScaffoldError(f"slug {slug!r} is not lowercase words joined by hyphens (a-z, 0-9 and -, "
                            "starting with a letter), e.g. ring-attention")
    page, snippets = f"docs/{section}/{slug}/index.md", f"snippets/{section}/{slug}"
    for path, what in ((page, "its page"), (f"docs/{section}/{slug}.md", "its page"), (snippets, "its snippet folder")):
        if (root / path).exists():
            raise ScaffoldError(f"topic {section}/{slug} already exists: {path} is {what}")
    named = re.search(rf"(?<![\w/.-]){re.escape(section)}/{re.escape(slug)}(?:\.md|/[\w.-]+\.md)\b", nav_text)
    if named:
        raise ScaffoldError(f"topic {section}/{slug} already exists: mkdocs.yml's nav names {named.group(0)}")
    title = default_title(slug) if title is None else title.strip()
    if not title or re.search(r"[\n\r|\[\]`]", title):
        raise ScaffoldError(f"title {title!r} must be one line of plain text without | [ ] or `")

    page_text = string.Template(TEMPLATE.read_text("utf8")).substitute(
        title=title, title_yaml=yaml_scalar(title), section=section, section_title=known[section][1], slug=slug)
    files = {page: page_text, f"{snippets}/first_example.py": SNIPPET.read_text("utf8"),
             "mkdocs.yml": add_nav_entry(nav_text, section, title, slug)}
    index = f"docs/{section}/index.md"
    index_text = add_index_row((root / index).read_text("utf8"), title, slug)
    if index_text is not None:
        files[index] = index_text
    return Topic(section, slug, title, files, index_text is not None)


def write(root: Path, topic: Topic) -> None:
    """Write every file of ``topic`` under ``root``, creating the snippet folder."""
    for path, text in topic.files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, "utf8")


def main(argv: list[str], root: Path) -> int:
    """Create the topic ``argv`` names in the project at ``root``; returns the exit status.

    ``argv`` is ``[<section>/<slug>]`` or ``[<section>/<slug>, <title>]``. Prints what it wrote and
    what to do next; on a refusal, prints ``error: <why>`` to stderr and returns 1 (2 for bad usage).
    """
    parser = argparse.ArgumentParser(
        prog="nox -s new --", description="Create a topic page, its first snippet, its nav entry and "
                                          f"its row on the section's index. Example: {USAGE_EXAMPLE}")
    parser.add_argument("topic", help="<section>/<slug>: an existing section and a new lowercase-with-hyphens slug")
    parser.add_argument("title", nargs="?", help="the page's title (default: the slug in sentence case)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse has already printed
        return int(exc.code or 0)
    try:
        topic = plan(root, args.topic, args.title)
    except ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(root, topic)
    page, snippets = f"docs/{topic.section}/{topic.slug}/index.md", f"snippets/{topic.section}/{topic.slug}"
    print(f"created {page} and {snippets}/first_example.py")
    print(f"added the nav section `- {yaml_scalar(topic.title)}:` with its overview "
          f"{topic.section}/{topic.slug}/index.md at the end of the {topic.section} section of mkdocs.yml's nav")
    print(f"added a row for it to docs/{topic.section}/index.md" if topic.index_edited
          else f"docs/{topic.section}/index.md has no topic table: link the page from it by hand")
    print(f"next:\n  1. write what each '{PLACEHOLDER}' placeholder asks for, in its place "
          "(tests/test_contract.py fails while one is left);\n"
          "  2. name the page in README.md's table of sections and in its section's card on docs/index.md;\n"
          f"  3. run its items: .venv/bin/nox -s tests -- docs/{topic.section}/{topic.slug} {snippets}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], HERE.parents[1]))
