"""Security rules that every page, snippet, test and workflow keeps.

Each rule is a function that scans a project folder and returns findings, one string per offence,
``path:line: what is wrong; what to do instead``. Each is run on the real tree (it must find
nothing) and on a small planted example (it must find exactly that example).

1. **No remote code.** ``trust_remote_code=True`` (or ``--trust-remote-code``) is in no code of
   ``docs/`` or ``snippets/`` (snippet files, scripts, configs, and page fences of any language;
   prose may name the rule): every model here is built from a config, so nothing needs it.
2. **Weights as safetensors; no unpickling.** No ``safe_serialization=False``,
   ``use_safetensors=False``, ``weights_only=False`` or ``allow_pickle=True``. Every
   ``torch.save``/``torch.load``/``pickle.load(s)`` (and kin) in page or snippet code is flagged
   unless a line of the call says why it is safe: ``# trusted: <why>`` (a file this script wrote).
3. **Servers bind loopback.** No code in ``snippets/``, ``tests/`` or a page's Python fences binds
   the wildcard address (all zeros, ``::`` or ``""``); every ``--host``/``--*-address`` flag a
   test passes to a server is followed by a loopback address; the Triton fixture's server and the
   vLLM server snippet pass one explicitly (both servers otherwise listen on every interface).
4. **Workflows.** Least permissions (``contents: read`` at the top; a job asks only for what it
   needs, from an allow-list below) and every ``uses:`` pinned by a 40-hex commit SHA with the
   release in a trailing comment (``uses: actions/checkout@<sha> # v4.4.0``).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from pytest_markdown_docs.plugin import parse_superfences_block_info

from harness import INCLUDE, PYTHON, ContainerAwareMarkdownIt

ROOT = Path(__file__).resolve().parents[1]
# Written so that this file itself holds no wildcard address for rule 3 to find.
ANY_IPV4 = ".".join("0000")
WILDCARDS = {ANY_IPV4, "::", "[::]"}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TRUSTED = re.compile(r"#\s*trusted:\s*\S")
TEXT_SUFFIXES = {".md", ".txt", ".sh", ".pbtxt", ".yml", ".yaml", ".json", ".toml", ".cfg", ".ipynb"}


# ---------------------------------------------------------------------------------------------
# What is scanned: Python files, the Python fences of pages, and other text files
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Code:
    """A unit of Python source: a ``.py`` file, or one fence of a page.

    ``path`` is relative to the project root (POSIX); ``first_line`` is the line of the file on
    which ``text``'s first line stands, so a finding at ``node.lineno`` is at
    ``first_line + node.lineno - 1`` of the file.
    """

    path: str
    first_line: int
    text: str

    def where(self, lineno: int) -> str:
        """``path:line`` of line ``lineno`` (1-based) of ``text``."""
        return f"{self.path}:{self.first_line + lineno - 1}"

    def line(self, lineno: int) -> str:
        lines = self.text.splitlines()
        return lines[lineno - 1] if 0 < lineno <= len(lines) else ""


def _files(root: Path, folders: tuple[str, ...], suffixes: set[str]) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).rglob("*")
                  if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts)


def page_fences(page: Path, root: Path) -> list[Code]:
    """The Python fences of a Markdown page that the harness runs (not snippet-include wrappers).

    Fences inside admonitions and content tabs are found too, with the harness's own parser, and
    keep their page line numbers.
    """
    rel = page.relative_to(root).as_posix()
    fences = []
    for token in ContainerAwareMarkdownIt("commonmark").parse(page.read_text("utf8")):
        if token.type != "fence" or not token.map:
            continue
        info = parse_superfences_block_info(token.info)
        if not info or info[0] not in PYTHON:
            continue
        body = [line for line in token.content.splitlines() if line.strip()]
        if body and all(INCLUDE.match(line) for line in body):
            continue  # the included snippet file is scanned as a file
        fences.append(Code(rel, token.map[0] + 2, token.content))
    return fences


def python_code(root: Path, folders: tuple[str, ...]) -> list[Code]:
    """Every ``.py`` file under ``folders`` of ``root`` and every Python fence of their ``.md`` pages."""
    code = [Code(p.relative_to(root).as_posix(), 1, p.read_text("utf8")) for p in _files(root, folders, {".py"})]
    for page in _files(root, folders, {".md"}):
        code.extend(page_fences(page, root))
    return code


def _parse(code: Code) -> ast.Module | None:
    try:
        return ast.parse(code.text)
    except SyntaxError:
        return None  # the harness fails such code anyway; the text rules below still see it


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> dotted name it was imported as (``import torch as t`` gives ``{"t": "torch"}``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    names[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def called_name(call: ast.Call, aliases: dict[str, str]) -> str | None:
    """The dotted name a call resolves to through the file's imports (``pkl.loads`` -> ``pickle.loads``)."""
    dotted = _dotted(call.func)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    return aliases.get(head, head) + (f".{rest}" if rest else "")


def _string(node: ast.AST) -> str | None:
    """A string literal's value; an f-string with ``{}`` for each replacement field; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _trusted(code: Code, node: ast.AST) -> bool:
    """True when a line of ``node`` carries ``# trusted: <why>``."""
    return any(TRUSTED.search(code.line(n)) for n in range(node.lineno, (node.end_lineno or node.lineno) + 1))


def by_place(findings) -> list[str]:
    """Findings (``path:line: ...``) sorted by path, then by line number."""
    def key(finding: str):
        path, line, _ = finding.split(":", 2)
        return path, int(line)
    return sorted(findings, key=key)


# ---------------------------------------------------------------------------------------------
# Rule 1: no remote code
# ---------------------------------------------------------------------------------------------

REMOTE_CODE_TEXT = re.compile(r"""trust_remote_code["']?\s*[=:]\s*True|--trust-remote-code""", re.I)
REMOTE_CODE_ADVICE = ("loads and runs Python from a model repository; build the model from its config "
                      "class instead (every model of this site is made locally)")


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """``(line number, text)`` of the lines of a file that are code: all of them, or for a Markdown
    page the lines inside its fences (of any language; prose that names a rule is not code)."""
    text = path.read_text("utf8", errors="replace")
    if path.suffix != ".md":
        return list(enumerate(text.splitlines(), start=1))
    lines = []
    for token in ContainerAwareMarkdownIt("commonmark").parse(text):
        if token.type == "fence" and token.map:
            lines.extend(enumerate(token.content.splitlines(), start=token.map[0] + 2))
    return lines


def remote_code_findings(root: Path) -> list[str]:
    """``path:line`` of every ``trust_remote_code`` that is not literally False, under docs/ and snippets/.

    Two passes: a text search of the code of every file (snippet files, shell scripts and configs
    whole; the fences of a page, of any language) for ``trust_remote_code=True``/``: True`` and
    ``--trust-remote-code``; and an AST pass over Python code for forms the text cannot see
    (``trust_remote_code=flag``, ``{"trust_remote_code": x}``).
    """
    found: dict[str, str] = {}
    for path in _files(root, ("docs", "snippets"), TEXT_SUFFIXES | {".py"}):
        rel = path.relative_to(root).as_posix()
        for n, line in _code_lines(path):
            match = REMOTE_CODE_TEXT.search(line)
            if match:
                found.setdefault(f"{rel}:{n}", f"{rel}:{n}: `{match.group(0)}` {REMOTE_CODE_ADVICE}")
    for code in python_code(root, ("docs", "snippets")):
        tree = _parse(code)
        for node in ast.walk(tree) if tree else ():
            value = None
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                value = node.value
            elif isinstance(node, ast.Dict):
                value = next((v for k, v in zip(node.keys, node.values)
                              if k is not None and _string(k) == "trust_remote_code"), None)
            if value is not None and not _is_false(value):
                where = code.where(value.lineno)
                found.setdefault(where, f"{where}: trust_remote_code={ast.unparse(value)} {REMOTE_CODE_ADVICE}")
    return by_place(found.values())


# ---------------------------------------------------------------------------------------------
# Rule 2: weights as safetensors; nothing unpickled unless the line says why it is safe
# ---------------------------------------------------------------------------------------------

UNPICKLERS = {"pickle.load", "pickle.loads", "pickle.Unpickler", "_pickle.load", "_pickle.loads",
              "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads", "joblib.load",
              "pandas.read_pickle", "torch.load", "torch.serialization.load"}
PICKLERS = {"torch.save", "torch.serialization.save"}
# keyword -> the one value that turns a safe default off
UNSAFE_KEYWORDS = {"safe_serialization": False, "use_safetensors": False, "weights_only": False, "allow_pickle": True}


def serialization_findings(root: Path) -> list[str]:
    """``path:line`` of every pickle-based save or load in the code of docs/ and snippets/.

    Flags, in page fences and snippet files: ``safe_serialization=False``, ``use_safetensors=False``,
    ``weights_only=False`` and ``allow_pickle=True`` always; calls of :data:`UNPICKLERS` and
    :data:`PICKLERS` unless a line of the call carries ``# trusted: <why>``.
    """
    found = []
    for code in python_code(root, ("docs", "snippets")):
        tree = _parse(code)
        if tree is None:
            continue
        aliases = _aliases(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg in UNSAFE_KEYWORDS and isinstance(keyword.value, ast.Constant) \
                        and keyword.value.value is UNSAFE_KEYWORDS[keyword.arg]:
                    found.append(f"{code.where(keyword.value.lineno)}: {keyword.arg}={keyword.value.value!r} "
                                 "turns pickle on; keep the safe default (weights as safetensors)")
            name = called_name(node, aliases)
            if name in UNPICKLERS and not _trusted(code, node):
                found.append(f"{code.where(node.lineno)}: {name}() can run code hidden in the file it reads; "
                             "load weights from safetensors (from_pretrained, safetensors.torch.load_file), or, "
                             "for a file this same script wrote, add `# trusted: <why>` on the line")
            elif name in PICKLERS and not _trusted(code, node):
                found.append(f"{code.where(node.lineno)}: {name}() writes a pickle; save weights as safetensors "
                             "(save_pretrained, safetensors.torch.save_file), or, for state that only this "
                             "script reads back, add `# trusted: <why>` on the line")
    return by_place(found)


# ---------------------------------------------------------------------------------------------
# Rule 3: every server a test starts binds loopback
# ---------------------------------------------------------------------------------------------

BIND_FLAG = re.compile(r"--(?:[\w{}]+-)*(?:host|address|bind|listen)")
BIND_KEYWORDS = re.compile(r"(?:\w+_)?(?:host|address|bind|listen)|server_name")
ANY_IPV4_IN_TEXT = re.compile(rf"(?<![\d.]){re.escape(ANY_IPV4)}(?![\d.])")


EMPTY_OR_ANY = {"", *WILDCARDS}


def bind_flags(code: Code) -> list[tuple[int, str, str | None]]:
    """``(line, flag, value)`` of each server bind flag in a list or tuple literal of ``code``.

    A bind flag is ``--host``, ``--bind``, ``--listen`` or ``--<name>-address`` (f-strings too,
    as ``--{}-address``); its value is the next element's literal (or the part after ``=``),
    ``None`` when that element is not a literal.
    """
    flags = []
    tree = _parse(code)
    for node in ast.walk(tree) if tree else ():
        if not isinstance(node, (ast.List, ast.Tuple)):
            continue
        for i, element in enumerate(node.elts):
            text = _string(element)
            if text is None:
                continue
            flag, eq, value = text.partition("=")
            if not BIND_FLAG.fullmatch(flag):
                continue
            if not eq:
                value = _string(node.elts[i + 1]) if i + 1 < len(node.elts) else None
            flags.append((element.lineno, flag, value))
    return flags


def bind_findings(root: Path) -> list[str]:
    """``path:line`` of every bind that is not to loopback, in snippets/, tests/ and page fences.

    Flags an all-zeros IPv4 literal anywhere in code (inside an f-string or a URL too; docstrings
    aside); an empty or ``::`` host given to a bind keyword (``host=""``, ``http_address="::"``),
    to a ``bind``/``*Server`` call (``sock.bind(("", port))``) or after a server bind flag
    (``--host``, ``--*-address``), whose value must be a loopback literal; and an all-zeros
    address in the other text files of snippets/ and tests/ (shell scripts, server configs).
    (``::`` alone is not flagged everywhere: it is also pytest's node-id separator.)
    """
    found: dict[str, str] = {}
    for code in python_code(root, ("snippets", "tests", "docs")):
        tree = _parse(code)
        if tree is None:
            continue
        docstrings = {id(node.value) for node in ast.walk(tree)
                      if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
        for node in ast.walk(tree):
            text = _string(node)
            if text is not None and id(node) not in docstrings and ANY_IPV4_IN_TEXT.search(text):
                where = code.where(node.lineno)
                found.setdefault(where, f"{where}: {text!r} listens on every interface; bind 127.0.0.1")
            elif isinstance(node, ast.keyword) and node.arg and BIND_KEYWORDS.fullmatch(node.arg) \
                    and _string(node.value) in EMPTY_OR_ANY:
                where = code.where(node.value.lineno)
                found.setdefault(where, f"{where}: {node.arg}={_string(node.value)!r} listens on every "
                                        "interface; bind 127.0.0.1")
            elif isinstance(node, ast.Call) and re.search(r"(?:bind|[Ss]erver)$", _dotted(node.func) or "") \
                    and node.args and isinstance(node.args[0], ast.Tuple) and node.args[0].elts \
                    and _string(node.args[0].elts[0]) in EMPTY_OR_ANY:
                where = code.where(node.lineno)
                found.setdefault(where, f"{where}: host {_string(node.args[0].elts[0])!r} listens on every "
                                        "interface; bind 127.0.0.1")
        for line, flag, value in bind_flags(code):
            loopback = value is not None and value.strip("[]") in {v.strip("[]") for v in LOOPBACK}
            if not loopback and not (value and ANY_IPV4_IN_TEXT.search(value)):  # reported above
                where = code.where(line)
                found.setdefault(where, f"{where}: server flag {flag} is given {value or 'a non-literal'}; "
                                        "pass the loopback address literally (127.0.0.1)")
    for path in _files(root, ("snippets", "tests"), TEXT_SUFFIXES - {".md"}):
        rel = path.relative_to(root).as_posix()
        for n, line in enumerate(path.read_text("utf8", errors="replace").splitlines(), start=1):
            if ANY_IPV4_IN_TEXT.search(line):
                found.setdefault(f"{rel}:{n}", f"{rel}:{n}: a wildcard address listens on every interface; "
                                               "bind 127.0.0.1")
    return by_place(found.values())


# The servers the tests start whose own default is every interface: each must be told loopback.
SERVER_LAUNCHERS = {
    # tritonserver's --http/--grpc/--metrics-address default to 0.0.0.0; conftest.py starts it via this module.
    "snippets/optimization/triton-inference-server/_triton_server.py": "--{}-address",
    # vLLM's OpenAI server listens on every interface unless --host says otherwise.
    "snippets/optimization/vllm/openai_server.py": "--host",
}


# ---------------------------------------------------------------------------------------------
# Rule 4: workflows
# ---------------------------------------------------------------------------------------------

WORKFLOWS = ".github/workflows"
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?P<comment>.*)$")
PINNED = re.compile(r"[^@\s]+@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(?:\.\d+)*\s*$")
TOP_PERMISSIONS = {"contents": "read"}
# (workflow file, job) -> the permissions that job may ask for, and only those.
JOB_PERMISSIONS = {
    ("pages.yml", "deploy"): {"pages": "write", "id-token": "write"},  # actions/deploy-pages: OIDC + Pages
}


def workflow_files(root: Path) -> list[Path]:
    return sorted([*(root / WORKFLOWS).glob("*.yml"), *(root / WORKFLOWS).glob("*.yaml")])


def yaml_line(text: str, path: str | list) -> int:
    """The 1-based line of the YAML node at a JSON path (``$.jobs.cpu['timeout-minutes']``, or a list of keys).

    Returns the line of the deepest key (or sequence item) of the path that exists; 1 when the
    document is empty or not YAML.
    """
    keys: list = path if isinstance(path, list) else [
        int(index) if index else (name or quoted1 or quoted2)
        for name, index, quoted1, quoted2 in re.findall(
            r"\.([^.\[\]]+)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]", path)]
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return 1
    line = 1
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


def unpinned_action_findings(root: Path) -> list[str]:
    """``file:line`` of every ``uses:`` not pinned by a full commit SHA with a ``# vX.Y.Z`` comment.

    A tag or branch (``@v4``) can be moved to other code after review; a commit SHA cannot. Local
    actions (``./path``) are the repository's own code and need no pin; a ``docker://`` image must
    be pinned by digest (``@sha256:...``).
    """
    found = []
    for workflow in workflow_files(root):
        rel = workflow.relative_to(root).as_posix()
        for n, line in enumerate(workflow.read_text().splitlines(), start=1):
            match = USES.match(line)
            if not match or match.group("ref").startswith("./"):
                continue
            ref = match.group("ref")
            if ref.startswith("docker://"):
                if "@sha256:" not in ref:
                    found.append(f"{rel}:{n}: `{ref}` is not pinned by digest; use docker://image@sha256:<digest>")
            elif not PINNED.fullmatch(ref):
                found.append(f"{rel}:{n}: `uses: {ref}` is not pinned by commit; use the full 40-hex SHA the "
                             "release tag points to, with the version in a comment: `uses: owner/repo@<sha> # vX.Y.Z`")
            elif not VERSION_COMMENT.match(match.group("comment")):
                found.append(f"{rel}:{n}: `uses: {ref}` has no `# vX.Y.Z` comment saying which release the SHA is")
    return found


def permission_findings(root: Path) -> list[str]:
    """``file:line`` of every permission beyond the least each workflow and job needs.

    The top level must be exactly ``permissions: {contents: read}`` (without it, GITHUB_TOKEN gets
    the repository's default, which may be write-all). A job may set ``permissions`` only as
    :data:`JOB_PERMISSIONS` allows for it; a job-level block replaces the top-level one.
    """
    found = []
    for workflow in workflow_files(root):
        rel, text = workflow.relative_to(root).as_posix(), workflow.read_text()
        data = yaml.safe_load(text) or {}
        if data.get("permissions") != TOP_PERMISSIONS:
            found.append(f"{rel}:{yaml_line(text, ['permissions'])}: top-level permissions are "
                         f"{data.get('permissions', 'not set')!r}; set exactly `permissions: {{contents: read}}`")
        for job, spec in (data.get("jobs") or {}).items():
            if not isinstance(spec, dict) or "permissions" not in spec:
                continue
            allowed = JOB_PERMISSIONS.get((workflow.name, job))
            if spec["permissions"] != allowed:
                found.append(f"{rel}:{yaml_line(text, ['jobs', job, 'permissions'])}: job {job!r} asks for "
                             f"{spec['permissions']!r}; allowed: {allowed or 'none beyond the top level'} "
                             "(tests/test_security.py JOB_PERMISSIONS says what each job needs, and why)")
    return found


# ---------------------------------------------------------------------------------------------
# The real tree
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [remote_code_findings, serialization_findings, bind_findings,
                                  unpinned_action_findings, permission_findings], ids=lambda f: f.__name__)
def test_the_project_keeps_the_rule(rule):
    findings = rule(ROOT)
    assert not findings, f"{len(findings)} finding(s):\n" + "\n".join(findings)


def test_the_scan_sees_pages_snippets_tests_and_workflows():
    # A scanner that reads nothing passes everything: check that it reads what it should.
    paths = {code.path for code in python_code(ROOT, ("docs", "snippets", "tests"))}
    assert "tests/harness.py" in paths and "snippets/optimization/vllm/openai_server.py" in paths
    assert "docs/basics/transformers/index.md" in paths, "no Python fence found on the Transformers page"
    assert {w.name for w in workflow_files(ROOT)} >= {"ci.yml", "gpu.yml", "pages.yml"}


@pytest.mark.parametrize("launcher, flag", SERVER_LAUNCHERS.items())
def test_servers_the_tests_start_are_told_to_bind_loopback(launcher, flag):
    code = Code(launcher, 1, (ROOT / launcher).read_text())
    binds = [(line, value) for line, found_flag, value in bind_flags(code) if found_flag == flag]
    assert binds, f"{launcher}: no `{flag} 127.0.0.1` in the server's command; without it the server listens " \
                  "on every interface"
    assert all(value == "127.0.0.1" for _, value in binds), binds


def test_the_triton_fixture_starts_its_server_through_the_checked_launcher():
    conftest = (ROOT / "snippets/optimization/triton-inference-server/conftest.py").read_text()
    assert "from _triton_server import" in conftest and "triton_server(" in conftest


# ---------------------------------------------------------------------------------------------
# Each rule catches a planted offence, at the right line
# ---------------------------------------------------------------------------------------------

def _plant(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_remote_code_is_caught_in_snippets_fences_and_prose(tmp_path):
    _plant(tmp_path, "snippets/topic/remote.py",
           "from transformers import AutoModel\n\nmodel = AutoModel.from_pretrained('x', trust_remote_code=True)\n")
    _plant(tmp_path, "snippets/topic/remote_flag.py", "flag = True\nkwargs = {'trust_remote_code': flag}\n")
    _plant(tmp_path, "docs/page.md", "# Page\n\n=== \"Tab\"\n\n    ```python\n    load(trust_remote_code=ok)\n    ```\n\n"
                                     "```bash\nvllm serve x --trust-remote-code\n```\n\n"
                                     "Prose may name the rule: no `trust_remote_code=True`.\n")
    _plant(tmp_path, "snippets/topic/fine.py", "load(trust_remote_code=False)\n")
    findings = remote_code_findings(tmp_path)
    assert [f.split(": ")[0] for f in findings] == [
        "docs/page.md:6", "docs/page.md:10", "snippets/topic/remote.py:3", "snippets/topic/remote_flag.py:2"]
    assert "trust_remote_code=True` loads and runs Python" in findings[2]


def test_pickle_saves_and_loads_are_caught_unless_trusted(tmp_path):
    _plant(tmp_path, "snippets/topic/weights.py", "\n".join([
        "import pickle as pkl",                                         # 1
        "import torch",                                                 # 2
        "from torch import load",                                       # 3
        "state = {'w': torch.ones(2)}",                                 # 4
        "torch.save(state, 'w.pt')",                                    # 5: flagged
        "torch.save(state, 'ok.pt')  # trusted: read back on the next line",
        "again = torch.load('ok.pt')  # trusted: written just above",
        "other = load('w.pt')",                                         # 8: flagged (alias)
        "data = pkl.loads(b'')",                                        # 9: flagged (alias)
        "model.save_pretrained('out', safe_serialization=False)",      # 10: flagged, no exemption
        "torch.load('ok.pt', weights_only=False)  # trusted: no",      # 11: weights_only flagged
        "model.save_pretrained('out')",                                 # 12: fine (safetensors)
    ]) + "\n")
    findings = serialization_findings(tmp_path)
    assert [f.split(": ")[0] for f in findings] == [f"snippets/topic/weights.py:{n}" for n in (5, 8, 9, 10, 11)]
    assert any("torch.load() can run code hidden" in f and ":8:" in f for f in findings)
    assert any("pickle.loads() can run code hidden" in f and ":9:" in f for f in findings)
    assert any("safe_serialization=False turns pickle on" in f for f in findings)


def test_a_pickle_load_in_a_page_fence_is_caught_at_its_page_line(tmp_path):
    _plant(tmp_path, "docs/page.md", "# Page\n\n!!! note\n\n    ```python\n    import pickle\n\n"
                                     "    pickle.load(open('x', 'rb'))\n    ```\n")
    assert [f.split(": ")[0] for f in serialization_findings(tmp_path)] == ["docs/page.md:8"]


def test_wildcard_binds_are_caught(tmp_path):
    _plant(tmp_path, "snippets/topic/server.py", "\n".join([
        "import socket, subprocess",                                                     # 1
        f"subprocess.Popen(['vllm', 'serve', 'm', '--host', '{ANY_IPV4}'])",             # 2
        "subprocess.Popen(['tritonserver', f'--{name}-address', addr])",                 # 3: not literal
        "sock = socket.socket()",                                                        # 4
        "sock.bind(('', 0))",                                                            # 5
        "uvicorn.run(app, host='')",                                                     # 6
        f"url = f'http://{ANY_IPV4}:{{port}}'",                                          # 7
        "subprocess.Popen(['vllm', 'serve', 'm', '--host', '127.0.0.1'])",               # 8: fine
        "sock.bind(('127.0.0.1', 0))",                                                   # 9: fine
    ]) + "\n")
    _plant(tmp_path, "tests/conftest.py", "server = Server(http_address='::')\nnode = 'test_a.py::test_b'\n")
    _plant(tmp_path, "tests/start.sh", f"tritonserver --http-address={ANY_IPV4}\n")
    findings = bind_findings(tmp_path)
    assert [f.split(": ")[0] for f in findings] == [
        *(f"snippets/topic/server.py:{n}" for n in (2, 3, 5, 6, 7)), "tests/conftest.py:1", "tests/start.sh:1"]


def test_unpinned_actions_and_broad_permissions_are_caught(tmp_path):
    sha = "11d5960a326750d5838078e36cf38b85af677262"
    _plant(tmp_path, f"{WORKFLOWS}/ci.yml", "\n".join([
        "name: CI",                                            # 1
        "on: push",                                            # 2
        "permissions: write-all",                              # 3
        "jobs:",                                               # 4
        "  test:",                                             # 5
        "    runs-on: ubuntu-latest",                          # 6
        "    permissions:",                                    # 7
        "      contents: write",                               # 8
        "    steps:",                                          # 9
        "      - uses: actions/checkout@v4",                   # 10: a tag
        f"      - uses: actions/setup-python@{sha}",          # 11: no version comment
        f"      - uses: actions/cache@{sha} # v4.4.0",        # 12: fine
        "      - uses: ./local-action",                        # 13: fine
        "      - uses: docker://alpine:3",                     # 14: no digest
    ]) + "\n")
    _plant(tmp_path, f"{WORKFLOWS}/pages.yml", "\n".join([
        "name: Pages", "on: push", "permissions:", "  contents: read", "jobs:",
        "  deploy:", "    runs-on: ubuntu-latest", "    permissions:", "      pages: write", "      id-token: write",
        f"    steps:", f"      - uses: actions/deploy-pages@{sha} # v4.0.5",
    ]) + "\n")
    assert [f.split(": ")[0] for f in unpinned_action_findings(tmp_path)] == [
        f"{WORKFLOWS}/ci.yml:10", f"{WORKFLOWS}/ci.yml:11", f"{WORKFLOWS}/ci.yml:14"]
    assert [f.split(": ")[0] for f in permission_findings(tmp_path)] == [
        f"{WORKFLOWS}/ci.yml:3", f"{WORKFLOWS}/ci.yml:7"]


def test_yaml_line_follows_a_json_path():
    text = "jobs:\n  cpu:\n    runs-on: x\n    steps:\n      - uses: a\n      - run: b\n        timeout-minutes: 9m\n"
    assert yaml_line(text, "$.jobs.cpu['timeout-minutes']") == 2  # missing key: its job
    assert yaml_line(text, "$.jobs.cpu.steps[1]['timeout-minutes']") == 7
    assert yaml_line(text, "$.jobs.cpu.steps[0].uses") == 5
    assert yaml_line("", "$.jobs") == 1
