"""MkDocs hook: each topic page's code as a notebook and a script, built from the page itself.

A topic is a folder of pages, ``docs/<section>/<topic>/``: its overview ``index.md`` and, where
the topic outgrew one page, sub-pages beside it (``pitfalls.md``). For every such page with code,
the build writes a notebook and a script beside the page, named after the topic and the sub-page:
``llm-study-peft.ipynb`` and ``.py`` for the overview (``site/basics/peft/``),
``llm-study-peft-pitfalls.ipynb`` and ``.py`` for ``pitfalls.md`` (``site/basics/peft/pitfalls/``;
see :func:`download_names` for why not ``peft.py``). It puts a line that links both under the
page's first paragraph, and turns the title of every fence that includes a snippet into a link to
that file in the repository.

:func:`notebook_from_markdown` does the work and is what the tests call:

* prose becomes Markdown cells (one per heading); a content tab's label becomes a bold line, an
  admonition a block quote; relative links point at the published site;
* each Python fence becomes a code cell, fences inside tabs and admonitions dedented;
* a ``--8<-- "snippets/x.py[:section]"`` include becomes the snippet's code, as
  ``pymdownx.snippets`` with ``dedent_subsections`` shows it, without the ``# pytest:`` header;
* an output block (```` ```{.text .output} ````) stays, as Markdown under its code ("Expected
  output"), so a reader can compare their run with what the test suite checked;
* a GPU fence (``.gpu``) or snippet (``# pytest: gpu``) gets a note and the ``gpu`` cell tag, and
  its code runs only where ``torch.cuda.is_available()``: elsewhere the cell prints that it skipped;
* a snippet that cannot run inside a notebook cell (it starts processes, reads ``__file__`` or
  ``sys.argv``, imports a file beside it, or has a ``from __future__`` import) is saved to a file
  by its cell and run with ``subprocess`` and the notebook's own Python; a module that such
  snippets import (``_tiny_llama.py``) is saved once, before its first use.

Every cell is plain Python, so :func:`script_from_notebook` (jupytext's percent format) gives a
script that ``python llm-study-<topic>.py`` runs from top to bottom.
"""

import ast
import dataclasses
import html
import io
import json
import logging
import posixpath
import re
import textwrap
import tokenize
from pathlib import Path

import jupytext
import nbformat
from markdown_it import MarkdownIt

log = logging.getLogger("mkdocs.hooks.downloads")

PYTHON = ("python", "py", "python3")
GPU_TAG = "gpu"  # cell tag of code that needs CUDA
SKIP_MESSAGE = "skipped: this cell needs a CUDA GPU"
EXPECTED_OUTPUT = "Expected output:"  # first line of the Markdown cell that holds a page's output block
TOPIC_PAGE = re.compile(r"^(?P<section>[^/]+)/(?P<topic>[^/]+)/(?P<page>[^/]+)\.md$")  # under docs/
CONTAINER = re.compile(r"""^(?P<indent>[ \t]*)(?P<mark>!!!|\?\?\?\+?|===\+?)\s+(?P<rest>.*)$""")
INCLUDE = re.compile(r"""^\s*-{1,}8<-{1,}\s+["']?(?P<target>[^"'\s]+)["']?\s*$""")
SECTION_MARK = re.compile(r"^\s*#?\s*-{1,}8<-{1,}\s+\[(?P<kind>start|end):(?P<name>[^\]]+)\]\s*$")
HEADER = re.compile(r"^#\s*pytest:\s*(?P<names>.*?)\s*$")
ANNOTATION = re.compile(r"(#\s*\(\d+\))!(\s*)$")  # Material's `# (1)!` marker: the note follows the code
INFO_ATTR = re.compile(r"""(?P<key>[\w-]+)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>\S+))""")
LINK = re.compile(r"(?P<open>!?\[[^\]\n]*\]\()(?P<target>[^)\s]+)(?P<close>[^)]*\))")
HEADING = re.compile(r"^#{1,6}\s")


# ---------------------------------------------------------------------------------------------
# Reading a page
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Line:
    """One line of the page with its containers taken off: ``text`` dedented, ``quote`` the number
    of admonitions around it, ``opener`` set on the line that opens a tab or admonition."""

    text: str
    quote: int = 0
    opener: tuple[str, str] | None = None  # ("tab" | "admonition", label)


def _container_label(mark: str, rest: str) -> tuple[str, str]:
    """``("tab", "CPU")`` for ``=== "CPU"``; ``("admonition", "Tip: Set x")`` for ``!!! tip "Set x"``."""
    title = re.search(r'"(.*)"\s*$', rest)
    if mark.startswith("==="):
        return "tab", title.group(1) if title else rest.strip()
    kind = rest.split()[0] if rest.split() else "note"
    kind = kind.split(".")[0].capitalize()
    return "admonition", f"{kind}: {title.group(1)}" if title and title.group(1) else kind


def _read_lines(text: str) -> list[_Line]:
    """The page's lines with tab and admonition bodies moved left (4 spaces per level).

    A body ends at the first non-blank line indented less than its opener plus 4, as in
    Python-Markdown. Line numbers are kept, so a markdown-it parse of the texts maps back here.
    """
    stack: list[tuple[int, str]] = []  # (indent of the opener, kind)
    lines = []
    for raw in text.split("\n"):
        expanded = raw.expandtabs(4)
        if not expanded.strip():
            lines.append(_Line("", sum(k == "admonition" for _, k in stack)))
            continue
        indent = len(expanded) - len(expanded.lstrip(" "))
        while stack and indent < stack[-1][0] + 4:
            stack.pop()
        shift = min(indent, stack[-1][0] + 4) if stack else 0
        line = _Line(expanded[shift:], sum(k == "admonition" for _, k in stack))
        opener = CONTAINER.match(expanded)
        if opener:
            line.opener = _container_label(opener.group("mark"), opener.group("rest"))
            stack.append((indent, line.opener[0]))
        lines.append(line)
    return lines


def _strip_front_matter(text: str) -> str:
    """``text`` without a leading YAML front matter block (``---`` ... ``---``)."""
    match = re.match(r"---\n.*?\n---[ \t]*\n", text, re.S)
    return text[match.end():] if match else text


def parse_fence_info(info: str) -> tuple[str | None, list[str], dict[str, str]]:
    """Language, classes and attributes of a fence's info string, in either SuperFences form.

    ``python title="x.py"`` gives ``("python", [], {"title": "x.py"})``;
    ``{.python .gpu .needs-x}`` gives ``("python", ["gpu", "needs-x"], {})``.
    """
    info = info.strip()
    if info.startswith("{") and info.endswith("}"):
        inner = info[1:-1]
        attrs = {m.group("key"): next(g for g in m.group("dq", "sq", "bare") if g is not None)
                 for m in INFO_ATTR.finditer(inner)}
        words = INFO_ATTR.sub("", inner).split()
        classes = [w[1:] for w in words if w.startswith(".")]
        return (classes[0] if classes else None), classes[1:], attrs
    language, _, rest = info.partition(" ")
    attrs = {m.group("key"): next(g for g in m.group("dq", "sq", "bare") if g is not None)
             for m in INFO_ATTR.finditer(rest)}
    return (language or None), [], attrs


# ---------------------------------------------------------------------------------------------
# Snippets
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Snippet:
    """What one ``--8<--`` include shows.

    ``code`` is the included text (the section only, dedented, markers and ``# pytest:`` header
    removed); ``lines`` the 1-based first and last line of that text in the file, for links;
    ``markers`` the names of the file's ``# pytest:`` header (``gpu``, ``distributed``, ``needs-x``).
    """

    path: Path
    rel: str  # path from the repository root, posix
    code: str
    lines: tuple[int, int]
    markers: list[str]


def read_include(target: str, root: Path) -> Snippet:
    """The text that ``--8<-- "target"`` shows, read from ``root / path``.

    ``target`` is ``path``, ``path:section`` (between ``# --8<-- [start:section]`` and
    ``[end:section]``, dedented as with ``dedent_subsections``) or ``path:first:last`` (lines).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the section is not in the file.
    """
    path_part, _, selector = target.partition(":")
    path = root / path_part
    source = path.read_text("utf8").split("\n")
    if source and source[-1] == "":
        source.pop()
    markers = []
    for line in source[:10]:
        header = HEADER.match(line)
        if header:
            markers += [n.strip() for n in header.group("names").split(",") if n.strip()]
    if selector and selector.split(":")[0].isdigit():
        bounds = [int(n) for n in selector.split(":") if n]
        first, last = bounds[0], bounds[1] if len(bounds) > 1 else len(source)
        chosen = list(range(first - 1, min(last, len(source))))
    elif selector:
        start = next((i for i, l in enumerate(source) if (m := SECTION_MARK.match(l))
                      and m.group("kind") == "start" and m.group("name") == selector), None)
        end = next((i for i, l in enumerate(source) if (m := SECTION_MARK.match(l))
                    and m.group("kind") == "end" and m.group("name") == selector), None)
        if start is None or end is None:
            raise ValueError(f"{path_part}: section {selector!r} not found")
        chosen = list(range(start + 1, end))
    else:
        chosen = list(range(len(source)))
    kept = [i for i in chosen if not SECTION_MARK.match(source[i]) and not HEADER.match(source[i])]
    code = "\n".join(source[i] for i in kept)
    if selector:
        code = textwrap.dedent(code)
    return Snippet(path, Path(path_part).as_posix(), code.strip("\n") + "\n",
                   (kept[0] + 1, kept[-1] + 1) if kept else (1, 1), markers)


def _topic_folder(path: Path, root: Path) -> Path:
    """``snippets/<section>/<topic>``, the topic folder that holds ``path``; else its own folder."""
    parts = path.relative_to(root).parts
    return root.joinpath(*parts[:3]) if parts[0] == "snippets" and len(parts) > 3 else path.parent


def _comment(text: str) -> str:
    """``text`` as ``#`` comment lines of at most 99 characters."""
    return "\n".join(textwrap.wrap(text, 97, initial_indent="# ", subsequent_indent="# ",
                                   break_on_hyphens=False, break_long_words=False)) + "\n"


def _collect_ignored(folder: Path) -> list[Path]:
    """Folders that ``folder/conftest.py`` lists in ``collect_ignore`` (code a server loads)."""
    conftest = folder / "conftest.py"
    if not conftest.is_file():
        return []
    for node in ast.parse(conftest.read_text("utf8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "collect_ignore" for t in node.targets):
            return [folder / name for name in ast.literal_eval(node.value)]
    return []


def _local_imports(code: str, folders: list[Path]) -> list[Path]:
    """Files in ``folders`` that ``code`` imports (``import tiny_llama``, ``from _x import y``)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    found = []
    for name in sorted(names):
        for folder in folders:
            if (folder / f"{name}.py").is_file():
                found.append(folder / f"{name}.py")
                break
    return found


def _why_a_script(code: str, markers: list[str], imports: list[Path]) -> str | None:
    """Why ``code`` must run as its own script rather than in a notebook cell, or None."""
    if "distributed" in markers:
        return "it starts several processes, which a notebook cell cannot do"
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "__file__":
            return "it reads its own path (`__file__`)"
        if isinstance(node, ast.Attribute) and node.attr == "argv" and getattr(node.value, "id", "") == "sys":
            return "it reads its command line"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if module == "argparse":
                return "it reads its command line"
            if module == "__future__":
                return "it starts with a `from __future__` import"
    if imports:
        return f"it imports {', '.join(f'`{p.name}`' for p in imports)} from beside it"
    return None


def _python_literal(text: str) -> str:
    """A Python string literal equal to ``text``: a raw triple-quoted one where that is exact."""
    for quote in ("'''", '"""'):
        literal = f"r{quote}\n{text}{quote}"
        if quote not in text and not text.endswith("\\"):
            try:
                if ast.literal_eval(literal) == "\n" + text:
                    return f'{literal}.removeprefix("\\n")'
            except (SyntaxError, ValueError):
                pass
    return repr(text)


def _quoted(text: str) -> str:
    """``text`` as a double-quoted Python string literal (the site's style)."""
    return json.dumps(text) if text.isascii() else repr(text)


def _indent(code: str, prefix: str = "    ") -> str:
    """``code`` indented one block level, leaving lines inside multi-line strings as they are."""
    protected: set[int] = set()
    multiline = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in multiline and tok.end[0] > tok.start[0]:
                protected.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return "\n".join(line if (n in protected or not line.strip()) else prefix + line
                     for n, line in enumerate(code.rstrip("\n").split("\n"), start=1))


def _gpu_note(markers: list[str]) -> str:
    """The Markdown note above a GPU cell: what it needs and what happens without it."""
    needs = [m.removeprefix("needs-") for m in markers if m.startswith("needs-")]
    extra = f" (and {', '.join(f'`{n}`' for n in needs)})" if needs else ""
    return (f"**Needs a CUDA GPU**{extra}. Tagged `{GPU_TAG}`; on a machine without CUDA the cell "
            "prints that it skipped.")


def _gpu_guarded(code: str, comment: str = "") -> str:
    """``code`` that runs only where torch finds CUDA, and otherwise prints :data:`SKIP_MESSAGE`;
    ``comment`` (a ``# ...`` line) goes first."""
    return (comment + "import torch\n\nif not torch.cuda.is_available():\n"
            f'    print("{SKIP_MESSAGE}")\nelse:\n{_indent(code)}\n')


# ---------------------------------------------------------------------------------------------
# The notebook
# ---------------------------------------------------------------------------------------------

class _Builder:
    """Accumulates the cells of one page's notebook."""

    def __init__(self, root: Path, src_uri: str, site_url: str | None):
        self.root, self.src_uri, self.site_url = root, src_uri, site_url
        self.cells: list = []
        self.prose: list[tuple[str, bool]] = []  # (line, verbatim: inside a fence)
        self.written: set[Path] = set()  # files a cell has saved already

    # -- Markdown --------------------------------------------------------------------------

    def flush(self) -> None:
        """End the Markdown cell being built, without empty lines (quoted or not) at either end or
        two in a row."""
        lines: list[str] = []
        for line, verbatim in self.prose:
            empty = not line.strip(" >")
            if empty and not verbatim and (not lines or not lines[-1].strip(" >")):
                continue
            lines.append(line)
        while lines and not lines[-1].strip(" >"):
            lines.pop()
        self.prose = []
        if lines:
            self.cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))

    def add_prose(self, text: str, quote: int, verbatim: bool = False) -> None:
        """A line of Markdown inside ``quote`` block quotes; a heading starts a new cell. A
        ``verbatim`` line (in a fence) keeps its links and its blank lines."""
        if HEADING.match(text) and not quote and not verbatim:
            self.flush()
        if not verbatim:
            text = self.absolute_links(text)
        self.prose.append((("> " * quote + text).rstrip() if quote else text, verbatim))

    def absolute_links(self, text: str) -> str:
        """Relative links and images pointed at the published site (a downloaded notebook has no
        neighbours); left alone without a ``site_url``."""
        if not self.site_url:
            return text

        def replace(match: re.Match) -> str:
            target = match.group("target")
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("/"):
                return match.group(0)
            path, _, anchor = target.partition("#")
            here = posixpath.dirname(self.src_uri)
            resolved = posixpath.normpath(posixpath.join(here, path)) if path else self.src_uri
            url = self.site_url.rstrip("/") + "/" + _page_url(resolved)
            return f"{match.group('open')}{url}{'#' + anchor if anchor else ''}{match.group('close')}"

        return LINK.sub(replace, text)

    # -- Code ------------------------------------------------------------------------------

    def add_code(self, source: str, gpu_markers: list[str] | None = None) -> None:
        """A code cell; with ``gpu_markers`` (the item's markers) it is tagged :data:`GPU_TAG` and
        preceded by a note (``source`` is expected to guard itself: :func:`_gpu_guarded`)."""
        self.flush()
        if gpu_markers is not None:
            self.cells.append(nbformat.v4.new_markdown_cell(_gpu_note(gpu_markers)))
        metadata = {"tags": [GPU_TAG]} if gpu_markers is not None else {}
        self.cells.append(nbformat.v4.new_code_cell(source.rstrip("\n"), metadata=metadata))

    def write_file_code(self, path: Path, code: str) -> str:
        """Python that saves ``code`` as ``path`` (relative to its topic folder) in the working folder."""
        rel = path.as_posix()
        lines = ["from pathlib import Path", ""]
        if "/" in rel:
            lines.append(f"Path({_quoted(posixpath.dirname(rel))}).mkdir(parents=True, exist_ok=True)")
        lines.append(f"Path({_quoted(rel)}).write_text({_python_literal(code)})")
        return "\n".join(lines) + "\n"

    def add_module(self, path: Path, code: str, reason: str) -> None:
        """A cell that saves ``code`` as the module ``path`` (in its place under the topic folder),
        for the snippets that import it; ``reason`` says why, as the cell's first comment."""
        rel = path.relative_to(_topic_folder(path, self.root)).as_posix()
        self.written.add(path)
        self.add_code(_comment(f"{reason}: this cell saves it as {rel} in the working folder.")
                      + self.write_file_code(Path(rel), code))

    def add_snippet(self, snippet: Snippet) -> None:
        """The cells of one snippet include: inline code, a saved module, or a saved-and-run script."""
        folder = _topic_folder(snippet.path, self.root)
        gpu = snippet.markers if "gpu" in snippet.markers else None
        if snippet.path.name.startswith("_") or any(d in snippet.path.parents for d in _collect_ignored(folder)):
            self.add_module(snippet.path, snippet.code, f"{snippet.rel} is a module, not a program")
            return
        imports = self.dependencies(snippet.path, snippet.code, folder)
        for module in imports:
            if module not in self.written:
                code = read_include(module.relative_to(self.root).as_posix(), self.root).code
                self.add_module(module, code, f"{snippet.path.name} imports {module.name}")
        reason = _why_a_script(snippet.code, snippet.markers, imports)
        code = _annotations(snippet.code)
        if not reason:
            comment = f"# {snippet.rel}\n"
            self.add_code(_gpu_guarded(code, comment) if gpu is not None else comment + code, gpu)
            return
        rel = snippet.path.relative_to(folder).as_posix()
        self.written.add(snippet.path)
        run = (f"run = subprocess.run([sys.executable, {_quoted(rel)}], capture_output=True, text=True)\n"
               'print(run.stdout, end="")\nprint(run.stderr, end="", file=sys.stderr)\n'
               "run.check_returncode()\n")
        if gpu is not None:
            run = f'if not torch.cuda.is_available():\n    print("{SKIP_MESSAGE}")\nelse:\n{_indent(run)}\n'
        source = (_comment(f"{snippet.rel} runs as its own script: {reason}. This cell saves it as {rel} "
                           "in the working folder and runs it with this Python.")
                  + "import subprocess\nimport sys\n" + ("import torch\n" if gpu is not None else "")
                  + self.write_file_code(Path(rel), code) + "\n" + run)
        self.add_code(source, gpu)

    def dependencies(self, path: Path, code: str, folder: Path) -> list[Path]:
        """Modules beside ``path`` (or in its topic folder) that ``code`` imports, their own first."""
        found: list[Path] = []
        todo = _local_imports(code, [path.parent, folder])
        while todo:
            module = todo.pop(0)
            if module in found or module == path:
                continue
            for inner in _local_imports(module.read_text("utf8"), [module.parent, folder]):
                if inner not in found and inner != module:
                    todo.append(inner)
            found.append(module)
        return list(reversed(found))


def _annotations(code: str) -> str:
    """Material's ``# (1)!`` annotation markers as plain ``# (1)`` comments (the note follows)."""
    return "\n".join(ANNOTATION.sub(r"\1\2", line) for line in code.split("\n"))


def _page_url(src_uri: str) -> str:
    """The directory URL MkDocs gives ``src_uri``: ``basics/peft/index.md`` -> ``basics/peft/``,
    ``basics/peft/pitfalls.md`` -> ``basics/peft/pitfalls/``."""
    if not src_uri.endswith(".md"):
        return src_uri
    stem = src_uri[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem[:-5]
    return stem + "/"


def notebook_from_markdown(text: str, root: Path, src_uri: str = "page.md",
                           site_url: str | None = None) -> nbformat.NotebookNode:
    """Turn a topic page's Markdown into a notebook (nbformat v4) that runs its code in order.

    Args:
        text: the page's Markdown, front matter allowed.
        root: the repository root; ``--8<--`` include paths are relative to it.
        src_uri: the page's path under ``docs/`` (``basics/peft/index.md``), to resolve relative links.
        site_url: the published site's root URL; relative links and images are made absolute
            against it. None leaves them as written.

    Returns:
        The notebook; code cells that need CUDA carry the tag :data:`GPU_TAG`.

    Raises:
        FileNotFoundError, ValueError: an include names a missing file or section.
    """
    builder = _Builder(root, src_uri, site_url)
    lines = _read_lines(_strip_front_matter(text))
    parser = MarkdownIt("commonmark")
    fences = {tok.map[0]: tok for tok in parser.parse("\n".join(l.text for l in lines))
              if tok.type == "fence" and tok.map}
    title = next((l.text[2:].strip() for l in lines if l.text.startswith("# ")), None)
    i = 0
    while i < len(lines):
        line = lines[i]
        if i in fences:
            _add_fence(builder, fences[i], line.quote)
            i = fences[i].map[1]
            continue
        if line.opener:
            kind, label = line.opener
            inside = line.quote + (kind == "admonition")  # an admonition's label opens its quote
            builder.add_prose(f"**{label}**", inside)
            builder.add_prose("", inside)
        else:
            builder.add_prose(line.text, line.quote)
            if title and line.text.startswith("# ") and site_url:
                builder.add_prose("", 0)
                builder.add_prose(f"*The code of the page [{title}]({site_url.rstrip('/')}/{_page_url(src_uri)}) "
                                  f"of LLM-Study, as a notebook generated from `docs/{src_uri}` and the "
                                  "snippets it includes. Run it in a folder of its own: cells may save "
                                  "files there.*", 0)
                title = None
        i += 1
    builder.flush()
    for number, cell in enumerate(builder.cells, start=1):
        cell.id = f"cell-{number}"  # not random: the same page gives the same file
    notebook = nbformat.v4.new_notebook(cells=builder.cells)
    notebook.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    return notebook


def _add_fence(builder: _Builder, token, quote: int) -> None:
    """One fenced block: a code cell for Python, an output note, or Markdown for anything else."""
    language, classes, attrs = parse_fence_info(token.info)
    body = token.content
    if "output" in classes:
        builder.flush()
        builder.cells.append(nbformat.v4.new_markdown_cell(f"{EXPECTED_OUTPUT}\n\n```text\n{body.rstrip()}\n```"))
        return
    content_lines = [l for l in body.split("\n") if l.strip()]
    targets = [INCLUDE.match(l).group("target") for l in content_lines if INCLUDE.match(l)]
    if targets and all(target.endswith(":key") for target in targets):
        # The key lines of a long script, which the page also includes whole, folded below them
        # (tests/test_navigation.py): the notebook runs the whole script, once.
        return
    if language in PYTHON and content_lines and len(targets) == len(content_lines):
        for target in targets:
            builder.add_snippet(read_include(target, builder.root))
        return
    expanded = "\n".join(read_include(INCLUDE.match(l).group("target"), builder.root).code.rstrip("\n")
                         if INCLUDE.match(l) else l for l in body.rstrip("\n").split("\n"))
    if language in PYTHON:
        code = _annotations(expanded)
        gpu = [c for c in classes if c == "gpu" or c.startswith("needs-")] if "gpu" in classes else None
        builder.add_code(_gpu_guarded(code) if gpu is not None else code, gpu)
        return
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`{3,}", expanded)), default=0) + 1)
    if "title" in attrs:
        builder.add_prose(f"`{attrs['title']}`:", quote)
        builder.add_prose("", quote)
    builder.add_prose(f"{fence}{language or ''}", quote)
    for line in expanded.split("\n"):
        builder.add_prose(line, quote, verbatim=True)
    builder.add_prose(fence, quote)


def notebook_from_page(page: Path, root: Path, site_url: str | None = None) -> nbformat.NotebookNode:
    """:func:`notebook_from_markdown` of ``page`` (a file under ``root/docs``)."""
    src_uri = page.resolve().relative_to((root / "docs").resolve()).as_posix()
    return notebook_from_markdown(page.read_text("utf8"), root, src_uri, site_url)


def script_from_notebook(notebook: nbformat.NotebookNode) -> str:
    """The notebook as a Python script in jupytext's percent format (``# %%`` cells)."""
    return jupytext.writes(notebook, fmt="py:percent")


# ---------------------------------------------------------------------------------------------
# MkDocs events
# ---------------------------------------------------------------------------------------------

def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def download_names(src_uri: str) -> tuple[str, str] | None:
    """Where a topic page's script and notebook go in the site, in the page's own folder:
    ``("basics/peft/llm-study-peft.py", "basics/peft/llm-study-peft.ipynb")`` for ``basics/peft/index.md``,
    ``basics/peft/pitfalls/llm-study-peft-pitfalls.py`` (and ``.ipynb``) for ``basics/peft/pitfalls.md``;
    None for pages outside a topic folder.

    Not ``peft.py``: Python puts a script's folder (and a notebook's) first on ``sys.path``, so a
    file named after the library it imports would be imported instead of the library. A name
    with a hyphen is not a module name at all.
    """
    match = TOPIC_PAGE.match(src_uri)
    if not match:
        return None
    name = match.group("topic") + ("" if match.group("page") == "index" else f"-{match.group('page')}")
    stem = f"{_page_url(src_uri)}llm-study-{name}"
    return f"{stem}.py", f"{stem}.ipynb"


_offered: set[str] = set()  # src_uri of the pages whose downloads this build writes (on_files)


def on_files(files, config):
    """Add each topic page's ``.py`` and ``.ipynb`` to the site, next to the page (pages without a
    code cell get none)."""
    from mkdocs.structure.files import File

    root = _root(config)
    _offered.clear()
    for file in list(files.documentation_pages()):
        names = download_names(file.src_uri)
        if not names:
            continue
        notebook = notebook_from_page(Path(file.abs_src_path), root, config.site_url)
        if not any(cell.cell_type == "code" for cell in notebook.cells):
            continue
        files.append(File.generated(config, names[0], content=script_from_notebook(notebook)))
        files.append(File.generated(config, names[1], content=nbformat.writes(notebook) + "\n"))
        _offered.add(file.src_uri)
    return files


def download_line(src_uri: str) -> str | None:
    """The Markdown line that links a topic page's downloads, or None for other pages."""
    names = download_names(src_uri)
    if not names:
        return None
    here = posixpath.dirname(src_uri)
    links = []
    for name in names:
        shown = posixpath.basename(name)
        links.append(f'[{shown}]({posixpath.relpath(name, here)}){{ download="{shown}" }}')
    # A paragraph of its own, with a class to style it by, left out of the search index.
    return "Download this page's code: " + " · ".join(links) + "\n{: .llm-downloads data-search-exclude }"


def on_page_markdown(markdown, page, config, files):
    """Put the download line under the first paragraph that follows the page's H1."""
    line = download_line(page.file.src_uri) if page.file.src_uri in _offered else None
    if not line:
        return markdown
    lines = markdown.split("\n")
    h1 = next((i for i, l in enumerate(lines) if l.startswith("# ")), -1)
    at = h1 + 1
    while at < len(lines) and not lines[at].strip():
        at += 1
    if at < len(lines) and not re.match(r"\s*(```|!!!|\?\?\?|===|\||<|[-*+] |\d+\. |#)", lines[at]):
        while at < len(lines) and lines[at].strip():
            at += 1
    else:
        at = h1 + 1
    return "\n".join(lines[:at] + ["", line, ""] + lines[at:])


FILENAME = re.compile(r'<span class="filename">(?P<title>.*?)</span>')


@dataclasses.dataclass
class TitledFence:
    """A fence with a ``title`` (which Material renders as ``<span class="filename">``); ``path``
    and ``link`` are set when its body is one ``--8<--`` include: the file from the repository
    root, and its URL on the repository (``#La-Lb`` for a section)."""

    title: str
    path: str | None = None
    link: str | None = None


def titled_fences(markdown: str, root: Path, repo_url: str, branch: str = "main") -> list[TitledFence]:
    """Every fence of ``markdown`` with a ``title``, in page order, each with the repository link
    of the file it includes (``{repo_url}/blob/{branch}/snippets/...``), if it includes one."""
    lines = _read_lines(markdown)
    result = []
    for token in MarkdownIt("commonmark").parse("\n".join(l.text for l in lines)):
        if token.type != "fence":
            continue
        _, _, attrs = parse_fence_info(token.info)
        if "title" not in attrs:
            continue
        fence = TitledFence(attrs["title"])
        body = [l for l in token.content.split("\n") if l.strip()]
        if len(body) == 1 and INCLUDE.match(body[0]):
            target = INCLUDE.match(body[0]).group("target")
            fence.path, _, section = target.partition(":")
            fence.link = f"{repo_url.rstrip('/')}/blob/{branch}/{fence.path}"
            if section:
                first, last = read_include(target, root).lines
                fence.link += f"#L{first}-L{last}"
        result.append(fence)
    return result


def _branch(config) -> str:
    """The branch that ``edit_uri`` (``edit/main/docs/``) names; ``main`` otherwise."""
    match = re.match(r"^(?:edit|blob)/([^/]+)/", config.edit_uri or "")
    return match.group(1) if match else "main"


def on_page_content(html_text, page, config, files):
    """Make the title of each snippet include a link to the snippet in the repository."""
    if not config.repo_url or not page.file.src_uri.endswith(".md") or not page.markdown:
        return html_text
    fences = titled_fences(page.markdown, _root(config), config.repo_url, _branch(config))
    spans = list(FILENAME.finditer(html_text))
    if len(spans) != len(fences):
        log.warning(f"downloads: {page.file.src_uri} renders {len(spans)} code titles for "
                    f"{len(fences)} titled fences; snippet titles are not linked")
        return html_text
    out, last = [], 0
    for span, fence in zip(spans, fences):
        out.append(html_text[last:span.start()])
        shown = html.unescape(re.sub(r"<[^>]+>", "", span.group("title")))
        if fence.link and shown == fence.title:
            out.append(f'<span class="filename"><a href="{html.escape(fence.link)}" '
                       f'title="{html.escape(fence.path)} in the repository">{span.group("title")}</a></span>')
        else:
            out.append(span.group(0))
        last = span.end()
    out.append(html_text[last:])
    return "".join(out)
