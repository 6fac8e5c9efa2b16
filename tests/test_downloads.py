"""Tests of the downloads hook (overrides/hooks/downloads.py): each topic page's code as a notebook
and a script (a topic page: the overview or a sub-page of a topic folder, docs/<section>/<topic>/).

Without a kernel: the generator on a small planted page (tabs, admonitions, snippet sections,
output blocks, GPU code, a multi-process snippet and the module it imports), and on every real
page (a valid notebook whose percent-format script reads back as the same cells).

With a kernel, one topic overview per section, all started at once (one job per core): the
notebooks of basics/datasets, optimization/flash-attention-2 and training/megatron-lm (whose snippets
start processes) run under nbclient with their GPU cells left out, and each cell's printed output must
match the page's output block under it, as the harness checks it; the script of basics/tokenizers runs
with ``python`` from top to bottom. A strict build of the real site must write both files beside every
topic page, link them from the page, and link snippet titles to the files in the repository.
"""

import asyncio
import dataclasses
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import harness
import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "overrides" / "hooks" / "downloads.py"
SITE_URL = "https://example.org/site/"


def _load_hook():
    """The hook as a module, loaded the way mkdocs loads hooks (by path)."""
    spec = importlib.util.spec_from_file_location("llm_study_downloads_hook", HOOK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


downloads = _load_hook()
TOPIC_PAGES = sorted((ROOT / "docs").glob("*/*/*.md"))  # the overview and sub-pages of every topic folder


# ---------------------------------------------------------------------------------------------
# The generator on a planted page
# ---------------------------------------------------------------------------------------------

PLANTED_PAGE = '''---
tags:
  - Planted
---
# Planted

An intro with a [link](other.md#part), an ![image](planted/plot.png) and [one](https://a.example/x).

## Code

```python
x = 40  # (1)!
print(x + 2)
```

1.  The annotation.

```{.text .output}
42
```

=== "CPU"

    ```python title="plain.py"
    --8<-- "snippets/sec/planted/plain.py:inner"
    ```

    ```{.text .output}
    inner 1
    ```

=== "GPU"

    ```python title="gpu_thing.py"
    --8<-- "snippets/sec/planted/gpu_thing.py:code"
    ```

!!! note "Inside a note"

    Prose in the note.

    ```python
    print("in note")
    ```

```{.python .gpu}
import torch
s = """
keep
"""
print(torch.zeros(1, device="cuda"))
```

```text title="data.txt"
--8<-- "snippets/sec/planted/data.txt"
```

```python title="uses_helper.py"
--8<-- "snippets/sec/planted/uses_helper.py"
```

```python title="workers.py"
--8<-- "snippets/sec/planted/workers.py:code"
```

```python title="whole.py"
--8<-- "snippets/sec/planted/whole.py"
```
'''

PLANTED_SNIPPETS = {
    "plain.py": '# pytest: slow\ndef outer():\n    # --8<-- [start:inner]\n    x = 1\n    print("inner", x)\n'
                '    # --8<-- [end:inner]\n',
    "gpu_thing.py": '# pytest: gpu, needs-transformers\n# --8<-- [start:code]\nimport torch\n'
                    'print(torch.ones(1, device="cuda"))\n# --8<-- [end:code]\n',
    "data.txt": "a = 1\n\n\nb = 2\n",  # blank lines in a fence are kept
    "_helper.py": 'def greet(name):\n    return f"hello from {name}"\n',
    "uses_helper.py": 'from _helper import greet\n\nprint(greet("a module"))\n',
    # Spawned processes import the main module: this only works from a file.
    "workers.py": "# pytest: distributed\n# --8<-- [start:code]\nimport multiprocessing as mp\n\n"
                  "NOTE = '''quotes ''' + \"\\\\n\"\n\n\n"
                  "def work(rank):\n    print(f\"rank {rank}/2: hello\", flush=True)\n\n\n"
                  'if __name__ == "__main__":\n    for rank in range(2):\n'
                  '        p = mp.get_context("spawn").Process(target=work, args=(rank,))\n'
                  "        p.start()\n        p.join()\n    print(repr(NOTE))\n# --8<-- [end:code]\n",
    "whole.py": 'print("whole")\n',
}


@pytest.fixture
def planted(tmp_path) -> tuple[Path, nbformat.NotebookNode]:
    folder = tmp_path / "snippets" / "sec" / "planted"
    folder.mkdir(parents=True)
    for name, text in PLANTED_SNIPPETS.items():
        (folder / name).write_text(text)
    (tmp_path / "docs" / "sec").mkdir(parents=True)
    (tmp_path / "docs" / "sec" / "planted.md").write_text(PLANTED_PAGE)
    return tmp_path, downloads.notebook_from_page(tmp_path / "docs/sec/planted.md", tmp_path, SITE_URL)


def _cells(notebook) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in notebook.cells]


def test_planted_page_becomes_these_cells(planted):
    _, notebook = planted
    nbformat.validate(notebook)
    cells = _cells(notebook)
    text = "\n".join(source for _, source, _ in cells)
    assert "tags:" not in text and "--8<--" not in text and "pytest:" not in text, text
    assert cells[0][1].startswith("# Planted\n"), cells[0]
    # Relative links and images point at the published site; other links stay.
    assert f"[link]({SITE_URL}sec/other/#part)" in cells[0][1], cells[0][1]
    assert f"![image]({SITE_URL}sec/planted/plot.png)" in cells[0][1], cells[0][1]
    assert "[one](https://a.example/x)" in cells[0][1]
    code = [(source, tags) for kind, source, tags in cells if kind == "code"]
    assert code[0] == ("x = 40  # (1)\nprint(x + 2)", []), "Material's (1)! marker becomes a plain (1)"
    after_first = [source for _, source, _ in cells[cells.index(("code", code[0][0], [])) + 1:]]
    assert after_first[:2] == ["1.  The annotation.", "Expected output:\n\n```text\n42\n```"]
    # Tab label, then the snippet's section only, dedented, with its path as the first comment.
    assert ("markdown", "**CPU**", []) in cells
    assert code[1] == ('# snippets/sec/planted/plain.py\nx = 1\nprint("inner", x)', [])
    # The GPU snippet: a note naming its needs, the tag, and code that runs only with CUDA.
    gpu_index = next(i for i, c in enumerate(cells) if c[2] == ["gpu"])
    assert cells[gpu_index - 1][1].startswith("**Needs a CUDA GPU** (and `transformers`)"), cells[gpu_index - 1]
    assert cells[gpu_index - 2][1] == "**GPU**"
    assert cells[gpu_index][1] == (
        "# snippets/sec/planted/gpu_thing.py\nimport torch\n\nif not torch.cuda.is_available():\n"
        f'    print("{downloads.SKIP_MESSAGE}")\nelse:\n    import torch\n    print(torch.ones(1, device="cuda"))')
    # The admonition is a block quote with its title; its fence is a code cell of its own.
    assert ("markdown", "> **Note: Inside a note**\n>\n> Prose in the note.", []) in cells
    assert ("code", 'print("in note")', []) in [(k, s, t) for k, s, t in cells]
    # The GPU fence: lines inside a multi-line string are not indented.
    gpu_fence = [s for k, s, t in cells if t == ["gpu"] and "zeros" in s]
    assert gpu_fence and '\n    s = """\nkeep\n"""\n' in gpu_fence[0], gpu_fence
    # A non-Python include stays Markdown, expanded.
    assert ("markdown", "`data.txt`:\n\n```text\na = 1\n\n\nb = 2\n```", []) in cells
    # A snippet that imports a module beside it runs as a script, after a cell saves the module.
    helper = next(i for i, c in enumerate(cells) if 'Path("_helper.py").write_text(' in c[1])
    user = next(i for i, c in enumerate(cells) if 'Path("uses_helper.py").write_text(' in c[1])
    assert helper < user, "the module must be saved before the script that imports it"
    assert 'subprocess.run([sys.executable, "uses_helper.py"]' in cells[user][1]
    # So does a multi-process snippet, which says why.
    workers = next(c[1] for c in cells if 'Path("workers.py").write_text(' in c[1])
    assert "it starts several processes" in workers and 'subprocess.run([sys.executable, "workers.py"]' in workers
    assert cells[-1] == ("code", '# snippets/sec/planted/whole.py\nprint("whole")', [])


def test_planted_script_runs_top_to_bottom_without_its_gpu_cells(planted, tmp_path):
    # The multi-process snippet is saved and run as a file (spawn re-imports it), in the .py too.
    _, notebook = planted
    notebook.cells = [c for c in notebook.cells if "gpu" not in c.metadata.get("tags", [])]
    script = tmp_path / "work" / "planted.py"
    script.parent.mkdir()
    script.write_text(downloads.script_from_notebook(notebook))
    result = subprocess.run([sys.executable, str(script)], cwd=script.parent, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["42", "inner 1", "in note", "hello from a module", "rank 0/2: hello",
                                          "rank 1/2: hello", repr("quotes \\n"), "whole"], result.stdout
    shown = PLANTED_SNIPPETS["workers.py"].split("[start:code]\n")[1].split("# --8<-- [end:code]")[0]
    assert (script.parent / "workers.py").read_text() == shown, "the saved script must be the code the page shows"


@pytest.mark.parametrize("page", TOPIC_PAGES, ids=lambda p: p.relative_to(ROOT / "docs").as_posix())
def test_every_topic_page_gives_a_notebook_and_the_same_cells_as_a_script(page):
    notebook = downloads.notebook_from_page(page, ROOT, SITE_URL)
    nbformat.validate(notebook)
    assert nbformat.writes(downloads.notebook_from_page(page, ROOT, SITE_URL)) == nbformat.writes(notebook), \
        f"{page.relative_to(ROOT)}: two builds give different notebooks"
    script = downloads.script_from_notebook(notebook)
    compile(script, f"{page.stem}.py", "exec")  # plain Python: no magics
    back = jupytext.reads(script, fmt="py:percent")
    assert [(c.cell_type, c.source) for c in back.cells] == [(c.cell_type, c.source) for c in notebook.cells], \
        f"{page.relative_to(ROOT)}: the .py does not read back as the same cells"
    text = "\n".join(c.source for c in notebook.cells)
    assert "--8<--" not in text and "# pytest:" not in text, f"{page.relative_to(ROOT)}: include markers left"


# ---------------------------------------------------------------------------------------------
# Real pages, executed; the real site, built
# ---------------------------------------------------------------------------------------------

EXECUTED = ("basics/datasets/index", "optimization/flash-attention-2/index", "training/megatron-lm/index")
SCRIPT_PAGE = "basics/tokenizers/index"


@dataclasses.dataclass
class Job:
    """One thing the module fixture runs: a notebook under nbclient, a script, or the build."""

    name: str
    seconds: float = 0.0
    notebook: nbformat.NotebookNode | None = None
    expected: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (code cell, its output block)
    gpu_cells: int = 0
    returncode: int | None = None
    output: str = ""  # stdout
    errors: str = ""  # stderr
    folder: Path | None = None  # the built site


def _without_gpu_cells(notebook) -> tuple[nbformat.NotebookNode, list[tuple[int, str]], int]:
    """The notebook without its ``gpu`` cells (nor their notes and output blocks), and each
    remaining code cell's index paired with the output block the page shows under it."""
    cells, expected, skipping, gpu = [], [], False, 0
    for cell in notebook.cells:
        if "gpu" in cell.metadata.get("tags", []):
            gpu += 1
            skipping = True
            if cells and cells[-1].source.startswith("**Needs a CUDA GPU**"):
                cells.pop()
            continue
        if cell.cell_type == "markdown" and cell.source.startswith(downloads.EXPECTED_OUTPUT):
            if not skipping:
                expected.append((max(i for i, c in enumerate(cells) if c.cell_type == "code"), _block(cell)))
            continue
        if cell.cell_type == "code":
            skipping = False
        cells.append(cell)
    notebook.cells = cells
    return notebook, expected, gpu


def _block(cell) -> str:
    """The page's output block that an "Expected output" Markdown cell holds."""
    return re.search(r"```text\n(.*)\n```$", cell.source, re.S).group(1) + "\n"


def _kernel_path(folder: Path) -> str:
    """A kernelspec for this interpreter under ``folder`` (for JUPYTER_PATH); returns its name."""
    spec = folder / "kernels" / "llm-study-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "LLM-Study tests", "language": "python"}))
    return spec.name


async def _run_all(tmp: Path) -> dict[str, Job]:
    from nbclient import NotebookClient

    env = {**os.environ, **harness.RUN_ENV}  # as the harness runs items: offline, one thread
    kernel = _kernel_path(Path(os.environ["JUPYTER_PATH"]))
    slots = asyncio.Semaphore(max(1, min(4, len(os.sched_getaffinity(0)))))  # one job per core
    jobs: dict[str, Job] = {}

    async def notebook(name: str) -> None:
        job = jobs[name] = Job(name)
        nb, job.expected, job.gpu_cells = _without_gpu_cells(
            downloads.notebook_from_page(ROOT / "docs" / f"{name}.md", ROOT, SITE_URL))
        work = tmp / name.replace("/", "-")
        work.mkdir()
        async with slots:
            start = time.monotonic()
            client = NotebookClient(nb, kernel_name=kernel, timeout=600, allow_errors=True,
                                    resources={"metadata": {"path": str(work)}})
            await client.async_execute(env=env)
            job.seconds, job.notebook = time.monotonic() - start, nb

    async def process(name: str, args: list[str], cwd: Path, extra_env: dict) -> None:
        job = jobs.setdefault(name, Job(name))
        async with slots:
            start = time.monotonic()
            proc = await asyncio.create_subprocess_exec(*args, cwd=cwd, env={**env, **extra_env},
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.PIPE)
            try:
                out, err = await asyncio.wait_for(proc.communicate(), timeout=600)
            except TimeoutError:
                proc.kill()
                raise
            job.seconds, job.returncode = time.monotonic() - start, proc.returncode
            job.output, job.errors = out.decode(), err.decode()

    script_dir = tmp / "script"
    script_dir.mkdir()
    notebook_of_page = downloads.notebook_from_page(ROOT / "docs" / f"{SCRIPT_PAGE}.md", ROOT, SITE_URL)
    script = script_dir / Path(downloads.download_names(f"{SCRIPT_PAGE}.md")[0]).name
    script.write_text(downloads.script_from_notebook(notebook_of_page))
    jobs["build"] = Job("build", folder=tmp / "site")
    await asyncio.gather(
        process("build", [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp / "site")],
                ROOT, {"NO_MKDOCS_2_WARNING": "1"}),
        *(notebook(name) for name in EXECUTED),
        process(SCRIPT_PAGE, [sys.executable, str(script)], script_dir, {}),
    )
    jobs[SCRIPT_PAGE].gpu_cells = sum("gpu" in c.metadata.get("tags", []) for c in notebook_of_page.cells)
    jobs[SCRIPT_PAGE].expected = [(-1, _block(c)) for c in notebook_of_page.cells
                                  if c.source.startswith(downloads.EXPECTED_OUTPUT)]
    return jobs


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Job]:
    tmp = tmp_path_factory.mktemp("downloads")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(tmp / "jupyter"))  # where nbclient finds the kernel
        start = time.monotonic()
        jobs = asyncio.run(_run_all(tmp))
    jobs["all"] = Job("all", time.monotonic() - start)
    print("\n" + "\n".join(f"{j.name}: {j.seconds:.1f} s" for j in jobs.values()))
    return jobs


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and o.name == "stdout")


def _where(page: str, cell) -> str:
    """``snippets/...py`` for a snippet's cell, else ``docs/<page>.md:line`` of its first code line."""
    first = cell.source.split("\n", 1)[0]
    match = re.match(r"# (snippets/\S+\.py)", first)
    if match:
        return match.group(1)
    text = (ROOT / "docs" / f"{page}.md").read_text().split("\n")
    line = next((n for n, l in enumerate(text, 1) if first.strip() and l.strip() == first.strip()), 0)
    return f"docs/{page}.md:{line}"


@pytest.mark.parametrize("page", EXECUTED)
def test_notebook_runs_and_prints_what_the_page_shows(runs, page):
    job = runs[page]
    errors = [(cell, out) for cell in job.notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.output_type == "error"]
    if errors:
        cell, error = errors[0]
        stderr = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
        traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error.traceback))  # without terminal colours
        pytest.fail(f"{page}.ipynb, cell from {_where(page, cell)}: {error.ename}: {error.evalue}\n"
                    f"{traceback[-2000:]}\nstderr:\n{stderr[-3000:]}", pytrace=False)
    assert job.expected, f"{page}: no output block was paired with a code cell"
    for index, block in job.expected:
        cell = job.notebook.cells[index]
        harness.check_output([(f"{page}.ipynb, cell from {_where(page, cell)}", block)], _stdout(cell))


def test_executed_notebooks_leave_their_gpu_cells_out(runs):
    # Two of the executed overviews have GPU code (datasets, megatron-lm): without CUDA it is left out.
    left_out = {page: runs[page].gpu_cells for page in EXECUTED}
    assert sum(left_out.values()) >= 2 and sum(n > 0 for n in left_out.values()) >= 2, left_out


def test_multi_process_snippets_run_from_the_notebook(runs):
    # megatron-lm's snippets start 2 processes each: their cells save and run them as scripts.
    job = runs["training/megatron-lm/index"]
    scripts = [c for c in job.notebook.cells if c.cell_type == "code" and "subprocess.run(" in c.source]
    assert len(scripts) >= 5, f"{len(scripts)} script cells"
    for cell in scripts:  # as the harness checks a distributed item: lines from every rank
        ranks = re.findall(r"^rank (\d+)/(\d+):", _stdout(cell), re.M)
        world = {int(w) for _, w in ranks}
        assert len(world) == 1 and world.pop() >= 2 and len({r for r, _ in ranks}) == int(ranks[0][1]), \
            f"{_where(job.name, cell)}: printed {_stdout(cell)!r}"


def test_script_runs_top_to_bottom_with_gpu_cells_skipping_themselves(runs):
    import torch

    job = runs[SCRIPT_PAGE]
    assert job.returncode == 0, f"{SCRIPT_PAGE}: the script failed:\n{job.errors[-4000:]}"
    if not torch.cuda.is_available():
        assert job.output.count(downloads.SKIP_MESSAGE) == job.gpu_cells >= 1, job.output[-2000:]
    # Every output block shows up, in order; numbers are compared by their leading digits.
    printed = _normalized(job.output)
    position = 0
    for _, text in job.expected:
        block = _normalized(text)
        found = printed.find(block, position)
        assert found >= 0, f"{SCRIPT_PAGE}.py did not print, after what came before:\n{block}"
        position = found + len(block)


def _normalized(text: str) -> str:
    """``text`` with runs of whitespace as one space and each decimal number cut to 2 digits."""
    text = re.sub(r"(\d+\.\d{1,2})\d*(e[-+]?\d+)?", r"\1", text)
    return " ".join(text.split())


def _config_value(key: str) -> str:
    """A plain ``key: value`` of mkdocs.yml (its ``!!python/name`` tags stop a plain YAML load)."""
    return re.search(rf"^{key}:\s*(\S+)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M).group(1)


def _url(page: Path) -> str:
    """The site folder of a page of docs/: ``basics/peft/`` for index.md, ``basics/peft/pitfalls/`` for pitfalls.md."""
    return downloads._page_url(page.relative_to(ROOT / "docs").as_posix())


def test_download_names_follow_the_topic_and_the_sub_page():
    assert downloads.download_names("basics/peft/index.md") == ("basics/peft/llm-study-peft.py",
                                                                "basics/peft/llm-study-peft.ipynb")
    assert downloads.download_names("basics/peft/pitfalls.md") == (
        "basics/peft/pitfalls/llm-study-peft-pitfalls.py", "basics/peft/pitfalls/llm-study-peft-pitfalls.ipynb")
    assert downloads.download_names("basics/index.md") is None and downloads.download_names("index.md") is None


def test_strict_build_writes_and_links_each_topic_downloads(runs):
    build = runs["build"]
    assert build.returncode == 0, build.errors[-4000:]
    assert any(page.name != "index.md" for page in TOPIC_PAGES), "no sub-page among the topic pages"
    for page in TOPIC_PAGES:
        rel = page.relative_to(ROOT / "docs").as_posix()
        html = (build.folder / _url(page) / "index.html").read_text()
        script, notebook = (build.folder / name for name in downloads.download_names(rel))
        assert script.parent == notebook.parent == build.folder / _url(page), f"{rel}: files not beside the page"
        for path in (script, notebook):
            assert path.is_file(), f"{rel}: {path.name} was not written beside the page"
            assert f'<a download="{path.name}" href="{path.name}">{path.name}</a>' in html, \
                f"{_url(page)}index.html: no link to {path.name}"
        # Under the H1 and the page's first paragraph, above the first section (if the page has sections).
        line, first_section = html.index('<p class="llm-downloads" data-search-exclude>'), html.find("<h2")
        assert html.index("</h1>") < line and (first_section == -1 or line < first_section), \
            f"{_url(page)}index.html: the download line is not under the first paragraph"
        nbformat.validate(nbformat.read(notebook, as_version=4))
        built = downloads.notebook_from_page(page, ROOT, _config_value("site_url"))
        assert script.read_text() == downloads.script_from_notebook(built), \
            f"{rel}: {script.name} is not the script of the page as it is now"
        # Named so that it cannot be imported in place of a library (peft.py would shadow peft).
        assert not script.stem.isidentifier(), f"{script.name} could shadow a module of that name"


def test_snippet_titles_link_to_the_file_in_the_repository(runs):
    site, blob = runs["build"].folder, f"{_config_value('repo_url')}/blob/main/"
    # A section include links to the section's lines, counted here from the markers.
    snippet = "snippets/training/megatron-lm/tp_mlp_from_scratch.py"
    lines = (ROOT / snippet).read_text().split("\n")
    first = next(n for n, l in enumerate(lines, 1) if "--8<-- [start:code]" in l) + 1
    last = next(n for n, l in enumerate(lines, 1) if "--8<-- [end:code]" in l) - 1
    html = (site / "training/megatron-lm/index.html").read_text()
    assert (f'<span class="filename"><a href="{blob}{snippet}#L{first}-L{last}" title="{snippet} in the '
            f'repository">tp_mlp_from_scratch.py</a></span>') in html
    # A whole-file include links to the file; every include title of every topic page is a link.
    html = (site / "optimization/flash-attention-2/index.html").read_text()
    assert f'<a href="{blob}snippets/optimization/flash-attention-2/online_softmax.py" ' in html
    for page in TOPIC_PAGES:
        html = (site / _url(page) / "index.html").read_text()
        includes = re.findall(r'^\s*```\w+ title="[^"]+"\n\s*--8<-- "([^":]+)', page.read_text(), re.M)
        linked = re.findall(rf'<span class="filename"><a href="{re.escape(blob)}([^"#]+)', html)
        assert linked == includes, f"{page.relative_to(ROOT)}: titles linked {linked}, includes {includes}"
