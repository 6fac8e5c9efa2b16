"""The `gpu` items, read against the pinned libraries' source on a machine without a GPU.

A CPU run skips every `gpu` item, so a function a library renamed or a keyword argument it removed
would go unnoticed until someone ran the GPU job. This module reads each `gpu` item (a snippet
whose ``# pytest:`` header says ``gpu``, or a page fence with the ``.gpu`` class, found by the
harness's own page parser, so also inside content tabs) with ``ast``, and resolves against the
source of the versions the item's environment pins, by static analysis only (``griffe.visit`` on
one file at a time: nothing is imported, nothing is inspected):

* every imported name (``import a.b as c``, ``from a import b``): it must exist;
* every attribute chain rooted at an imported name (``bnb.nn.Linear4bit``, ``torch.cuda.Event``);
* the keyword arguments of every call whose callee is such a chain (``LoraConfig(r=8, ...)``,
  ``F.scaled_dot_product_attention(..., is_causal=True)``, ``SamplingParams(max_tokens=64)``):
  each must be a parameter of the function, or of the class's ``__init__`` and ``__new__`` along
  its bases, or a field of a dataclass or ``msgspec.Struct``; anything goes where the signature
  has ``**kwargs`` (``LLM(...)``, ``from_pretrained(...)``, transformers 5's configs).

A failure names the item's file and line (a page's line for a fence), e.g.
``snippets/basics/peft/qlora_4bit.py:32: keyword 'lora_alph' is not a parameter of peft.LoraConfig
(pinned peft 0.21.2)`` or ``...: 'transformers.NoSuchThing' not found (pinned transformers 5.24.0)``.

Where the source comes from. ``[tool.llm-study.environments]`` of pyproject.toml maps each item to
an environment (the Triton page's clients run in main; anything unlisted is main). The main
environment is this interpreter's site-packages (``nox -s tests``, built from constraints/main.txt).
The optimum, gptq and vllm-gpu environments read the pinned releases that differ from main's from
``$LLM_STUDY_CACHE/sources``, which ``tests/gpu/fetch_sources.py`` fills at install time (official
vLLM 0.33 is CUDA-only and installed nowhere here: its source archive is read), and the rest from
main, which must then hold that environment's pin (else the item fails saying what to add). The
vllm-gpu environment is not locked: its torch and transformers are main's. Missing sources fail
every test that needs them, naming the fetch command; nothing skips. Modules beside a snippet
(``from _tiny_llama import ...``; for ``vllm/gpu`` also the parent folder it puts on ``sys.path``)
are read the same way, so the keywords of their functions are checked too.

How a name resolves. A module's names are griffe's members (imports under ``if TYPE_CHECKING:``
included: that is how transformers', optimum's and vLLM's lazy ``__init__`` modules list what their
``_LazyModule`` or module ``__getattr__`` serves; transformers' model packages serve what their
files' ``__all__`` export), then its submodules, then names bound where griffe does not look
(``a, b = ...``), then its ``from x import *`` targets, each loaded only if its ``__all__`` (else its
text) can provide the name, so that ``transformers.LlamaConfig`` loads a handful of the ~1,600
modules of transformers.models. A name of a C extension resolves through the ``.pyi`` stub beside
it (torch's ``_VariableFunctions``, tokenizers). A name is reported missing only from a namespace
that is static; one that a module builds at import time (writes through ``globals()``,
``setattr``/``exec`` at module level, a ``global`` statement creating a name, a module
``__getattr__`` or ``sys.modules`` swap without a ``TYPE_CHECKING`` list, a ``*`` import that cannot
be read) or that a class inherits from a base that cannot be read is "not checkable" instead.
Likewise a signature is trusted only when every decorator on the way is known to keep it
(``NEUTRAL_DECORATORS``) and no metaclass or ``__init_subclass__`` may rewrite it.

Not checked: calls of methods on objects (``model.generate(...)``, ``llm.generate(...)``: that needs
type inference), values of arguments (``attn_implementation="flash_attention_2"``), the standard
library, and what only C code defines (``numpy.array``, ``onnxruntime.get_available_providers``).
Each item's test prints how many names and keywords it checked and what it could not check, and why.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import importlib.util
import re
import sys
import sysconfig
from collections import Counter
from importlib import metadata
from pathlib import Path

import pytest

try:
    import griffe
except ImportError:  # e.g. a reader's `pytest -m gpu`, which deselects this module's tests anyway
    griffe = None

import harness

ROOT = Path(__file__).resolve().parents[1]
FETCH_SCRIPT = ROOT / "tests" / "gpu" / "fetch_sources.py"
FETCH_COMMAND = f"python {FETCH_SCRIPT.relative_to(ROOT)}"

FOUND, MISSING, UNKNOWN = "found", "missing", "not checkable"
ACCEPTS_ANY = "accepts any keyword"
STDLIB = "is the standard library (not checked)"

# Decorators that leave a function's or class's signature as written (final canonical paths, or
# the path as written where it cannot be followed: builtins).
NEUTRAL_DECORATORS = {
    "classmethod", "staticmethod", "property", "functools.cached_property", "abc.abstractmethod",
    "functools.cache", "functools.lru_cache", "functools.total_ordering",
    "contextlib.contextmanager", "contextlib.asynccontextmanager",
    "typing.overload", "typing_extensions.overload", "typing.final", "typing_extensions.final",
    "typing.dataclass_transform", "typing_extensions.dataclass_transform", "typing.no_type_check",
    "typing_extensions.deprecated", "warnings.deprecated", "typing.override", "typing_extensions.override",
    "enum.unique",
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.autograd.grad_mode.no_grad",
    "torch.autograd.grad_mode.inference_mode", "torch.jit.unused", "torch.jit.ignore", "torch.jit.export",
    "torch._jit_internal.unused", "torch._jit_internal.ignore", "torch._jit_internal.export",
    "torch.compiler.disable", "torch._disable_dynamo",
    # torch.distributed: log and time the call, forwarding (*args, **kwargs) unchanged.
    "torch.distributed.c10d_logger._exception_logger", "torch.distributed.c10d_logger._time_logger",
    "torch.distributed._composable.contract.contract",
    # huggingface_hub: validates repo ids and tokens, forwards every argument unchanged.
    "huggingface_hub.utils._validators.validate_hf_hub_args", "huggingface_hub.utils.validate_hf_hub_args",
    # transformers: docstrings only.
    "transformers.utils.args_doc.auto_docstring", "transformers.utils.auto_docstring",
    "transformers.utils.doc.add_start_docstrings", "transformers.utils.add_start_docstrings",
    "transformers.utils.doc.add_end_docstrings", "transformers.utils.add_end_docstrings",
    "transformers.models.auto.configuration_auto.replace_list_option_in_docstrings",
    # transformers: records the backends a class or function needs (functions: functools.wraps).
    "transformers.utils.import_utils.requires",
}
DATACLASS_DECORATORS = {"dataclasses.dataclass", "pydantic.dataclasses.dataclass"}
# huggingface_hub's @strict validates a dataclass's fields; with accept_kwargs=True it also takes any keyword.
STRICT_DECORATORS = {"huggingface_hub.dataclasses.strict"}
# Bases that add nothing to the constructor, and need not be read.
NEUTRAL_BASES = {"object", "abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Protocol",
                 "typing_extensions.Generic"}
NEUTRAL_METACLASSES = {"abc.ABCMeta"}
MSGSPEC_STRUCT = "msgspec.Struct"
# Module-level code that makes a namespace dynamic (names no static reader can list).
# (globals() is looked at apart: reading it, as in ``globals()["__file__"]``, binds nothing.)
DYNAMIC_CALLS = {"setattr", "exec"}


def _fetch_sources_module():
    spec = importlib.util.spec_from_file_location("llm_study_fetch_sources", FETCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetch_sources = _fetch_sources_module()


@dataclasses.dataclass
class Result:
    status: str  # FOUND, MISSING or UNKNOWN
    obj: object = None  # the griffe object (or a list of overloads) when FOUND
    why: str = ""


# ---------------------------------------------------------------------------------------------
# Reading the source of one environment
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class FileInfo:
    """What ``ast`` says about one module file, beyond griffe's members."""

    bound: set[str]  # every name its module-level code binds (griffe skips ``a, b = ...``, ``for``, ``with``)
    wildcards: list[str]  # absolute targets of its ``from x import *``
    dynamic: str | None  # why its namespace cannot be listed statically, or None


# Shared by every environment: a module is keyed by its name and the folders its package is read from.
_MODULES: dict[tuple[str, tuple[Path, ...]], griffe.Module | None] = {}
_INFO: dict[Path, FileInfo] = {}
_TEXT: dict[Path, str] = {}
_STUBS: dict[Path, griffe.Module | None] = {}
if griffe is not None:
    _LINES = griffe.LinesCollection()
    _COLLECTION = griffe.ModulesCollection()
    _EXTENSIONS = griffe.Extensions()  # none: not even griffe's dataclasses one (fields are read here)
# Text that may make a namespace dynamic; only files that have some are parsed to find out.
DYNAMIC_HINTS = ("globals()", "global ", "global\t", "__getattr__", "sys.modules[", "setattr(", "exec(")
DYNAMIC_HINT = re.compile(r"globals\(\)|^[ \t]+global[ \t]|^(?:    )?def __getattr__\((?!self)|sys\.modules\[|"
                          r"^(?:    )?(?:setattr|exec)\(", re.M)


def _text(path: Path) -> str:
    if path not in _TEXT:
        _TEXT[path] = path.read_text(encoding="utf-8-sig", errors="replace")
    return _TEXT[path]


def file_info(path: Path, dotted: str, *, parse: bool = True) -> FileInfo | None:
    """The :class:`FileInfo` of module ``dotted`` in ``path``; with ``parse=False``, None where parsing is needed."""
    if path in _INFO:
        return _INFO[path]
    text = _text(path)
    package = dotted if path.stem == "__init__" else dotted.rpartition(".")[0]
    if not parse and not (any(hint in text for hint in DYNAMIC_HINTS) and DYNAMIC_HINT.search(text)):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        info = FileInfo(set(), [], f"cannot be parsed by Python {sys.version_info[0]}.{sys.version_info[1]} ({error.msg})")
        _INFO[path] = info
        return info
    bound, wildcards, lazy, type_checked, dynamic = set(), [], None, False, None
    for node in _module_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            if node.name == "__getattr__" and not isinstance(node, ast.ClassDef):
                lazy = "serves names from a module __getattr__"
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    base = package.split(".")[:len(package.split(".")) - max(node.level - 1, 0)] if node.level else []
                    wildcards.append(".".join(base + ([node.module] if node.module else [])))
                else:
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            type_checked = type_checked or any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body)
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Subscript) and ast.unparse(t.value) == "sys.modules" for t in node.targets):
            lazy = "replaces itself in sys.modules"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DYNAMIC_CALLS:
            dynamic = dynamic or f"calls {node.func.id}() at import time"
    has_globals, has_global = "globals()" in text, re.search(r"^[ \t]+global[ \t]", text, re.M)
    parents = ({child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
               if has_globals else {})
    for node in ast.walk(tree) if has_globals or has_global else ():
        if isinstance(node, ast.Global) and not set(node.names) <= bound:
            dynamic = dynamic or f"creates module names from a function (global {', '.join(node.names)})"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "globals":
            parent = parents.get(node)
            reads = ((isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Load))
                     or (isinstance(parent, ast.Attribute) and parent.attr in ("get", "keys", "items", "values")))
            if not reads:
                dynamic = dynamic or "writes its names through globals()"
    if lazy and not type_checked and not LAZY_FILES.search(text):  # (those serve their files' names)
        dynamic = dynamic or f"{lazy} without a TYPE_CHECKING list of its names"
    info = FileInfo(bound, wildcards, dynamic)
    _INFO[path] = info
    return info


LAZY_FILES = re.compile(r"define_import_structure\(\s*_file\s*\)")
ALL_ASSIGNMENT = re.compile(r"^__all__\s*(?::[^=\n]*)?=\s*([\[(][^\])]*[\])])", re.M)


def _static_all(text: str) -> set[str] | None:
    """The names of a module's ``__all__`` when it is one literal list assigned once, else None."""
    match = ALL_ASSIGNMENT.search(text)
    if match is None or len(re.findall(r"^\s*__all__\b", text, re.M)) != 1 or "__all__." in text:
        return None
    body = re.sub(r"#.*", "", match.group(1))
    if re.search(r"[^\s\[\]()'\",\w]", body):  # anything but a list of string literals
        return None
    return set(re.findall(r"['\"](\w+)['\"]", body))


class Sources:
    """The modules of one environment (or of a snippet's folder), loaded one file at a time.

    ``top_dirs(name)`` lists the folders holding top-level package or module ``name``, in search
    order (several for a namespace package such as ``optimum``). A top-level name it does not
    know goes to ``fallback`` (a snippet folder's Sources falls back to its environment's).
    ``describe(file, top)`` says where a file comes from (``pinned peft 0.21.2``).
    """

    def __init__(self, label: str, top_dirs, fallback: Sources | None = None, describe=None):
        self.label = label
        self.top_dirs = top_dirs
        self.fallback = fallback
        self.describe = describe or (lambda file, top: label)
        self.mentions: dict[tuple[str, str], bool] = {}
        self.mros: dict[str, list] = {}

    # -- files ------------------------------------------------------------------------------

    def owner(self, path: str) -> Sources | None:
        top = path.split(".", 1)[0]
        if self.top_dirs(top):
            return self
        return self.fallback.owner(path) if self.fallback else None

    def find(self, dotted: str) -> tuple[Path | None, list[Path]] | None:
        """``(file, [])`` of a module or package, ``(None, folders)`` of a namespace package, or None."""
        parts = dotted.split(".")
        dirs = self.top_dirs(parts[0])
        for suffix in (".py", ".pyi"):  # a C extension's stub only where no .py exists
            for folder in dirs:
                base = folder.joinpath(*parts)
                if (base / f"__init__{suffix}").is_file():
                    return base / f"__init__{suffix}", []
                if base.with_name(base.name + suffix).is_file():
                    return base.with_name(base.name + suffix), []
        spaces = [folder.joinpath(*parts) for folder in dirs if folder.joinpath(*parts).is_dir()]
        return (None, spaces) if spaces else None

    def load(self, dotted: str) -> griffe.Module | None:
        """The module ``dotted`` (loading its parent packages first), or None if there is none here."""
        key = (dotted, tuple(self.top_dirs(dotted.split(".", 1)[0])))
        if key in _MODULES:
            return _MODULES[key]
        _MODULES[key] = None
        parent = None
        if "." in dotted:
            parent = self.load(dotted.rsplit(".", 1)[0])
            if parent is None:
                return None
        found = self.find(dotted)
        if found is None:
            return None
        file, spaces = found
        name = dotted.rsplit(".", 1)[-1]
        common = {"parent": parent, "lines_collection": _LINES, "modules_collection": _COLLECTION}
        if file is None:
            module = griffe.Module(name, filepath=spaces, **common)
        elif file_info(file, dotted).dynamic and file_info(file, dotted).dynamic.startswith("cannot be parsed"):
            module = griffe.Module(name, filepath=file, **common)
        else:
            module = griffe.visit(name, filepath=file, code=_text(file), extensions=_EXTENSIONS, **common)
        _MODULES[key] = module
        return module

    def info(self, module: griffe.Module) -> FileInfo:
        file = module.filepath
        return file_info(file, module.path) if isinstance(file, Path) else FileInfo(set(), [], None)

    def stub_module(self, module: griffe.Module) -> griffe.Module | None:
        """The ``.pyi`` stub beside a ``.py`` module (the signatures of what it takes from C), if any."""
        file = module.filepath
        if not isinstance(file, Path) or file.suffix != ".py" or not file.with_suffix(".pyi").is_file():
            return None
        stub = file.with_suffix(".pyi")
        if stub not in _STUBS:
            try:
                _STUBS[stub] = griffe.visit(module.name, filepath=stub, code=_text(stub), parent=module.parent,
                                            extensions=_EXTENSIONS, lines_collection=_LINES,
                                            modules_collection=_COLLECTION)
            except (SyntaxError, ValueError):
                _STUBS[stub] = None
        return _STUBS[stub]

    def stub_member(self, module: griffe.Module, name: str, seen: frozenset = frozenset()):
        """What ``module``'s ``.pyi`` stub declares ``name`` to be (a class, function or overloads), or None."""
        stub = self.stub_module(module)
        if stub is None:
            return None
        described = stub.members.get(name) or stub.overloads.get(name) or None
        if isinstance(described, griffe.Alias):
            target = self.resolve_target(described.target_path, seen)
            described = target.obj if target.status == FOUND else None
        return described if isinstance(described, (griffe.Class, griffe.Function, list)) else None

    # -- names ------------------------------------------------------------------------------

    def resolve(self, path: str, seen: frozenset = frozenset()) -> Result:
        """Follow ``a.b.C.d`` through modules, classes and aliases to a griffe object."""
        owner = self.owner(path)
        if owner is None:
            top = path.split(".", 1)[0]
            if top in sys.stdlib_module_names or top == "builtins":
                return Result(UNKNOWN, why=f"'{top}' {STDLIB}")
            return Result(MISSING, why=f"module '{top}' not found in {self.label}")
        if owner is not self:
            return owner.resolve(path, seen)
        if path in seen:
            return Result(UNKNOWN, why=f"cyclic import of '{path}'")
        seen = seen | {path}
        parts = path.split(".")
        obj = self.load(parts[0])
        if obj is None:
            return Result(UNKNOWN, why=f"'{parts[0]}' is not Python source here (a compiled module?)")
        for i, name in enumerate(parts[1:], start=1):
            if isinstance(obj, griffe.Module):
                result = self.module_member(obj, name, seen)
            elif isinstance(obj, griffe.Class):
                result = self.class_member(obj, name, seen)
            else:
                what = "group of overloads" if isinstance(obj, list) else obj.kind.value
                return Result(UNKNOWN, why=f"'{'.'.join(parts[:i])}' is {'an' if what[0] in 'aeiou' else 'a'} "
                                           f"{what}: its attributes need types")
            if result.status != FOUND:
                return result
            obj = result.obj
        return Result(FOUND, obj)

    def resolve_target(self, target: str, seen: frozenset = frozenset()) -> Result:
        """Where ``from a.b import c`` (an import, or an alias griffe made of one) leads: name ``c`` of
        *module* ``a.b``, read from its file even where package ``a`` binds ``b`` to something else
        (``torch.multiprocessing.spawn`` is a function of the package and a module of its own)."""
        owner = self.owner(target)
        if owner is not self:
            return owner.resolve_target(target, seen) if owner else self.resolve(target, seen)
        if target in seen:
            return Result(UNKNOWN, why=f"cyclic import of '{target}'")
        head, _, last = target.rpartition(".")
        parent = self.load(head) if head else None
        if parent is not None:
            return self.module_member(parent, last, seen | {target})
        return self.resolve(target, seen)

    def module_member(self, module: griffe.Module, name: str, seen: frozenset) -> Result:
        """``name`` in ``module``: a member (aliases followed), a submodule, a name bound where griffe
        does not look, or a name of one of its wildcard imports."""
        member = module.members.get(name)
        failed = None
        if isinstance(member, griffe.Alias):
            target = self.resolve_target(member.target_path, seen)
            if target.status == FOUND:
                return target
            # Bound at import time all the same (from a C extension, or under try/except ImportError).
            failed = Result(UNKNOWN, why=f"'{module.path}.{name}' is imported from '{member.target_path}', "
                                         f"which cannot be followed ({target.why})")
        elif isinstance(member, griffe.Attribute):  # a value bound to a C object: the stub says what it is
            return Result(FOUND, self.stub_member(module, name, seen) or member)
        elif member is not None:
            return Result(FOUND, member)
        if module.overloads.get(name):  # a stub that only declares @overload variants
            return Result(FOUND, list(module.overloads[name]))
        submodule = self.load(f"{module.path}.{name}")
        if submodule is not None:  # (a package's submodule replaces the attribute once imported)
            return Result(FOUND, submodule)
        if failed:  # the stub may describe what the C extension gives
            described = self.stub_member(module, name, seen)
            return Result(FOUND, described) if described is not None else failed
        info = self.info(module)
        if name in info.bound:  # `A, B = ...`, a for or with target: a value griffe does not record
            value = griffe.Attribute(name, lineno=None)
            value.parent = module
            return Result(FOUND, value)
        unknown = None
        for target in self.wildcards(module.path, info):
            owner = self.owner(target)
            if owner is None:
                unknown = f"'{module.path}' imports * from '{target}', which is not here"
                continue
            if not owner.may_define(target, name):
                continue
            target_module = owner.resolve(target, seen)
            if target_module.status != FOUND or not isinstance(target_module.obj, griffe.Module):
                unknown = f"'{module.path}' imports * from '{target}', which cannot be read"
                continue
            result = owner.module_member(target_module.obj, name, seen)
            if result.status == FOUND:
                return result
            if result.status == UNKNOWN:
                unknown = result.why
        if info.dynamic or unknown:
            return Result(UNKNOWN, why=f"'{module.path}' {info.dynamic}" if info.dynamic else unknown)
        return Result(MISSING, why=f"'{module.path}.{name}' not found")

    def wildcards(self, dotted: str, info: FileInfo) -> list[str]:
        """The modules whose names ``dotted`` re-exports as ``from x import *`` does.

        A package ``__init__`` that hands ``define_import_structure(_file)`` to transformers'
        ``_LazyModule`` serves at run time what the files and subpackages beside it export, whatever
        its ``TYPE_CHECKING`` block says (in transformers 4.57 some of those imports name files that
        do not exist, or lack the leading dot): for it, those files and folders are the wildcards.
        """
        declared = [f"{dotted}.{w}" if self.owner(w) is None and self.find(f"{dotted}.{w}") else w
                    for w in info.wildcards]
        found = self.find(dotted)
        file = found[0] if found else None
        if file is None or file.name != "__init__.py" or not LAZY_FILES.search(_text(file)):
            return declared
        files = sorted(p for p in file.parent.glob("*.py") if p.name != "__init__.py")
        if any(p.name.startswith("modeling_") for p in files):  # as define_import_structure does
            files = [p for p in files if not p.name.startswith("modular_")]
        folders = sorted(d for d in file.parent.iterdir() if (d / "__init__.py").is_file())
        here = [w for w in declared if self.owner(w) is not None and self.find(w) is not None]
        return list(dict.fromkeys(here + [f"{dotted}.{p.stem}" for p in files + folders]))

    def may_define(self, dotted: str, name: str) -> bool:
        """False only when ``from dotted import *`` cannot bring ``name``, judged from the text of
        module ``dotted``: a literal ``__all__`` decides; else the names its code binds, its own
        wildcard imports and whether its namespace is dynamic do. Cheaper than loading it."""
        key = (dotted, name)
        if key in self.mentions:
            return self.mentions[key]
        self.mentions[key] = True  # while cycling: it may
        found = self.find(dotted)
        if found is None or found[0] is None:
            return True
        file = found[0]
        text = _text(file)
        exported = _static_all(text)
        if exported is not None:
            answer = name in exported
        elif name not in text and "import *" not in text and file_info(file, dotted, parse=False) is None:
            answer = False  # no mention, no wildcard, nothing dynamic: it cannot bind the name
        else:
            info = file_info(file, dotted)
            answer = bool(info.dynamic) or (name in info.bound and not name.startswith("_")) or any(
                self.owner(w) is None or self.owner(w).may_define(w, name) for w in self.wildcards(dotted, info))
        self.mentions[key] = answer
        return answer

    def mro(self, cls: griffe.Class, seen: frozenset = frozenset()) -> list:
        """``cls`` and its bases in method resolution order; an :class:`Unreadable` stands for a base
        that cannot be read, so that nothing after it is taken as what ``cls`` inherits."""
        if cls.path in self.mros:
            return self.mros[cls.path]
        self.mros[cls.path] = [cls, Unreadable(cls.path, f"'{cls.path}' inherits from itself")]
        linearizations = []
        for base in cls.bases:
            path = base if isinstance(base, str) else base.canonical_path
            if path in NEUTRAL_BASES or path == MSGSPEC_STRUCT:
                continue
            result = self.resolve(path, seen)
            if result.status == FOUND and isinstance(result.obj, griffe.Class):
                owner = self.owner(result.obj.path) or self
                linearizations.append(owner.mro(result.obj, seen))
            else:
                linearizations.append([Unreadable(path, f"base class '{path}' of '{cls.path}' cannot be read")])
        self.mros[cls.path] = [cls, *_c3([list(m) for m in linearizations] + [[m[0] for m in linearizations]])]
        return self.mros[cls.path]

    def class_member(self, cls: griffe.Class, name: str, seen: frozenset) -> Result:
        mro = self.mro(cls, seen)
        for klass in mro:
            if isinstance(klass, Unreadable):
                return Result(UNKNOWN, why=klass.why)
            member = klass.members.get(name)
            if member is None and klass.overloads.get(name):
                return Result(FOUND, list(klass.overloads[name]))
            if member is not None:
                if isinstance(member, griffe.Alias):
                    return self.resolve_target(member.target_path, seen)
                return Result(FOUND, member)
        dynamic = next((k for k in mro if _metaclass(k) or "__getattr__" in k.members or k.decorators), None)
        if dynamic:
            return Result(UNKNOWN, why=f"'{dynamic.path}' has a metaclass, a __getattr__ or decorators")
        for klass in mro:  # `Class.name = ...` after the class body, which griffe does not record
            file = klass.module.filepath
            if isinstance(file, Path) and re.search(rf"\b{klass.name}\.{re.escape(name)}\s*=", _text(file)):
                return Result(UNKNOWN, why=f"'{klass.path}.{name}' is assigned outside the class body")
        return Result(MISSING, why=f"'{cls.path}' has no attribute '{name}'")

    # -- signatures ---------------------------------------------------------------------------

    def decorator_path(self, decorator: griffe.Decorator) -> str:
        path = decorator.callable_path
        if "." in path:
            result = self.resolve(path)
            if result.status == FOUND and hasattr(result.obj, "path"):
                return result.obj.path
        return path

    def keywords(self, obj) -> Result:
        """What keywords a call of ``obj`` accepts: FOUND with a set of names or ACCEPTS_ANY."""
        if isinstance(obj, list):  # overloads
            return _union([self.keywords(o) for o in obj])
        if isinstance(obj, griffe.Function):
            return self.function_keywords(obj)
        if isinstance(obj, griffe.Class):
            owner = self.owner(obj.path) or self
            return owner.constructor_keywords(obj)
        if isinstance(obj, griffe.Attribute):
            return Result(UNKNOWN, why=f"'{obj.path}' is a value assigned in Python, not a def or class")
        return Result(UNKNOWN, why=f"'{getattr(obj, 'path', obj)}' is not a function or class")

    def function_keywords(self, function: griffe.Function) -> Result:
        for decorator in function.decorators:
            path = self.decorator_path(decorator)
            if path not in NEUTRAL_DECORATORS:
                return Result(UNKNOWN, why=f"'{function.path}' is decorated with @{path}, which may change its signature")
        return _union([_parameters(f) for f in [function, *(function.overloads or [])]])

    def constructor_keywords(self, cls: griffe.Class) -> Result:
        """The keywords ``cls(...)`` accepts: those both its ``__init__`` and its ``__new__`` take.

        ``__init__`` may also be made by ``@dataclass`` (its fields) or be a ``msgspec.Struct``'s
        (its annotated fields). Where only one of the two can be read, it alone decides: a keyword
        that one refuses is refused by the call.
        """
        mro = self.mro(cls)
        classes = [k for k in mro if isinstance(k, griffe.Class)]
        for klass in classes:
            for decorator in klass.decorators:
                path = self.decorator_path(decorator)
                if path in STRICT_DECORATORS and "accept_kwargs=True" in str(decorator.value):
                    return Result(FOUND, ACCEPTS_ANY)
        for klass in classes:
            metaclass = _metaclass(klass)
            if metaclass and metaclass not in NEUTRAL_METACLASSES:
                return Result(UNKNOWN, why=f"'{klass.path}' has metaclass {metaclass}")
            if klass is not cls and "__init_subclass__" in klass.members:
                return Result(UNKNOWN, why=f"'{klass.path}.__init_subclass__' may change the constructor of subclasses")
            unknown = [p for p in map(self.decorator_path, klass.decorators)
                       if p not in NEUTRAL_DECORATORS | DATACLASS_DECORATORS | STRICT_DECORATORS]
            if unknown:
                return Result(UNKNOWN, why=f"'{klass.path}' is decorated with @{unknown[0]}")
        init, new = self._first(mro, "__init__"), self._first(mro, "__new__")
        if init is None and new is None:
            return Result(FOUND, set())  # object() takes no arguments
        known = [r for r in (init, new) if r is not None and r.status == FOUND]
        if not known:
            return next(r for r in (init, new) if r is not None)
        names = [r.obj for r in known if r.obj != ACCEPTS_ANY]
        return Result(FOUND, set.intersection(*names) if names else ACCEPTS_ANY)

    def _first(self, mro: list, dunder: str) -> Result | None:
        """The keywords of the first ``dunder`` along ``mro``, or None when only ``object`` has it."""
        for klass in mro:
            if isinstance(klass, Unreadable):
                return Result(UNKNOWN, why=klass.why)
            method = klass.members.get(dunder)
            if method is not None:
                if isinstance(method, griffe.Alias):
                    target = self.resolve_target(method.target_path)
                    return self.keywords(target.obj) if target.status == FOUND else target
                return self.keywords(method)
            if dunder != "__init__":
                continue
            dataclass = next((d for d in klass.decorators if self.decorator_path(d) in DATACLASS_DECORATORS), None)
            if dataclass is not None and "init=False" not in str(dataclass.value).replace(" ", ""):
                if any(isinstance(k, Unreadable) for k in mro):
                    return Result(UNKNOWN, why=next(k.why for k in mro if isinstance(k, Unreadable)))
                fields = set()
                for parent in mro:
                    if any(self.decorator_path(d) in DATACLASS_DECORATORS for d in parent.decorators):
                        fields |= _annotated_fields(parent, dataclass=True)
                return Result(FOUND, fields)
            if any((b if isinstance(b, str) else b.canonical_path) == MSGSPEC_STRUCT for b in klass.bases):
                fields = set()
                for parent in mro[:mro.index(klass) + 1]:
                    fields |= _annotated_fields(parent, dataclass=False)
                return Result(FOUND, fields)
        return None


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """A base class that cannot be read, in its place in a method resolution order."""

    path: str
    why: str


def _union(results: list[Result]) -> Result:
    """The keywords accepted by any of several overloads."""
    names = set()
    for result in results:
        if result.status != FOUND or result.obj == ACCEPTS_ANY:
            return result
        names |= result.obj
    return Result(FOUND, names)


def _parameters(function: griffe.Function) -> Result:
    """The names ``function`` accepts as keywords (not ``self``/``cls``, not positional-only)."""
    names = set()
    parameters = list(function.parameters)
    is_method = isinstance(function.parent, griffe.Class) and "staticmethod" not in function.labels
    if is_method and parameters and parameters[0].kind is not griffe.ParameterKind.var_positional:
        parameters = parameters[1:]
    for parameter in parameters:
        if parameter.kind is griffe.ParameterKind.var_keyword:
            return Result(FOUND, ACCEPTS_ANY)
        if parameter.kind in (griffe.ParameterKind.positional_or_keyword, griffe.ParameterKind.keyword_only):
            names.add(parameter.name)
    return Result(FOUND, names)


def _metaclass(cls: griffe.Class) -> str | None:
    value = (cls.keywords or {}).get("metaclass")
    if value is None:
        return None
    return value if isinstance(value, str) else value.canonical_path


def _annotated_fields(cls: griffe.Class, *, dataclass: bool) -> set[str]:
    """Names of ``cls``'s own annotated class-body attributes that are constructor fields (no ClassVar)."""
    fields = set()
    for member in cls.members.values():
        if not isinstance(member, griffe.Attribute) or member.annotation is None:
            continue
        if "property" in member.labels or ("class-attribute" in member.labels
                                           and "instance-attribute" not in member.labels):
            continue  # ClassVar
        if not member.lineno or (isinstance(cls.lineno, int) and isinstance(cls.endlineno, int)
                                 and not cls.lineno <= member.lineno <= cls.endlineno):
            continue  # made up here (a name bound by unpacking), not a class-body field
        annotation = str(member.annotation)
        if annotation.endswith("KW_ONLY"):
            continue
        value = str(member.value or "")
        if dataclass and re.search(r"\bfield\(.*\binit\s*=\s*False", value):
            continue
        fields.add(member.name)
    return fields


def _c3(sequences: list[list]) -> list:
    """C3 linearization (Python's MRO) of the given lists; falls back to their order when it fails."""
    result, sequences = [], [s for s in sequences if s]
    while sequences:
        for sequence in sequences:
            head = sequence[0]
            if not any(head in s[1:] for s in sequences):
                break
        else:
            flat = []
            for s in sequences:
                flat += [c for c in s if c not in flat and c not in result]
            return result + flat
        result.append(head)
        sequences = [[c for c in s if c is not head] for s in sequences]
        sequences = [s for s in sequences if s]
    return result


def _module_level(body: list[ast.stmt]):
    """Every node of module-level code, not descending into function or class bodies."""
    stack = list(reversed(body))
    while stack:  # depth first, in source order
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


# ---------------------------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------------------------

MAIN_SITE = [Path(p) for p in dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])]


def _in_folders(folders: list[Path], *, namespaces: bool = True):
    """``top_dirs`` for packages in ``folders`` (namespace packages such as ``megatron`` only if asked:
    a snippet's folder is first on sys.path, but a bare subfolder there shadows no installed package)."""
    def top_dirs(name: str) -> list[Path]:
        return [f for f in folders if (f / f"{name}.py").is_file() or (f / f"{name}.pyi").is_file()
                or ((f / name).is_dir() if namespaces else (f / name / "__init__.py").is_file())]
    return top_dirs


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


@functools.cache
def main_version(top: str) -> tuple[str, str] | None:
    """``(distribution, version)`` installed here for top-level import ``top``."""
    for dist in _distributions().get(top, []):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return fetch_sources.normalize(dist), metadata.version(dist)
    return None


def fetched(env: str) -> list[dict]:
    return [e for e in fetch_sources.plan() if e["env"] == env and e["fetch"]]


def missing_sources() -> list[str]:
    return sorted({f"{e['dist']}=={e['version']} ({e['path']})" for e in fetch_sources.plan()
                   if e["fetch"] and not fetch_sources.is_complete(e["path"])})


@functools.cache
def environment(env: str) -> Sources:
    """The Sources of environment ``env``: its fetched sources first, then the main environment's site-packages."""
    entries = fetched(env)
    provided: dict[str, list[Path]] = {}
    for entry in entries:
        for top in entry["imports"]:
            provided.setdefault(top, []).append(Path(entry["path"]))
    main_dirs = _in_folders(MAIN_SITE)

    def top_dirs(name: str) -> list[Path]:
        return provided.get(name) or main_dirs(name)

    def describe(file: Path | None, top: str) -> str:
        """Which pinned release ``file`` (or, where None, top-level package ``top``) comes from."""
        mine = [e for e in entries if (Path(e["path"]) in file.parents if file is not None else top in e["imports"])]
        if mine:
            return "pinned " + " + ".join(f"{e['dist']} {e['version']}" for e in mine)
        installed = main_version(top)
        if installed is None:
            return f"{top} of the main environment"
        version = installed[1].split("+")[0]  # torch 2.13.0+cpu is the lock's torch==2.13.0
        if env == "vllm-gpu":
            return f"{installed[0]} {version} of the main environment; vllm-gpu is not locked"
        return f"pinned {installed[0]} {version}"

    return Sources(f"the {env!r} environment", top_dirs, describe=describe)


@functools.cache
def local_sources(env: str, folders: tuple[Path, ...]) -> Sources:
    """Modules next to a snippet, which shadow everything else (the snippet's folder is first on sys.path)."""
    top_dirs = _in_folders(list(folders), namespaces=False)
    return Sources("the snippet's folder", top_dirs, fallback=environment(env),
                   describe=lambda file, top: f"snippet-local {top}.py")


def pin_problems(env: str, top: str) -> str | None:
    """When ``top`` comes from the main environment at another version than ``env`` pins: why."""
    if env == "vllm-gpu" or any(top in e["imports"] for e in fetched(env)):
        return None
    installed = main_version(top)
    if installed is None:
        return None
    pinned = fetch_sources.pins(env).get(installed[0])
    if pinned and pinned != installed[1].split("+")[0]:  # torch 2.13.0+cpu is the lock's torch==2.13.0
        if env == "main":
            return (f"{installed[0]} {installed[1]} is installed, but constraints/main.txt pins {pinned}: "
                    "run this test in the main environment (`nox -s tests`)")
        return (f"{installed[0]} is read from the main environment ({installed[1]}), but constraints/{env}.txt "
                f"pins {pinned}: add it to SOURCES[{env!r}] in tests/gpu/fetch_sources.py and run `{FETCH_COMMAND}`")
    return None


# ---------------------------------------------------------------------------------------------
# GPU items
# ---------------------------------------------------------------------------------------------

# The environment whose Python runs an environment's items, where it is another one: the Triton
# page's clients run in the main environment (constraints/triton.txt is the server's).
PYTHON_OF = {"triton": "main"}


@dataclasses.dataclass
class GpuItem:
    rel: str  # file as reported
    env: str  # the environment whose libraries the item runs with
    code: str
    first_line: int  # line in the file of the code's first line
    folders: tuple[Path, ...]  # where snippet-local modules live

    @property
    def id(self) -> str:
        return self.rel if self.first_line == 1 else f"{self.rel}:{self.first_line - 1}"


def _env_of(path: Path, config: pytest.Config) -> str:
    env = harness.environment_of(path, config)
    return PYTHON_OF.get(env, env)


def snippet_item(path: Path, rel: str, env: str) -> GpuItem:
    code = path.read_text(encoding="utf8")
    folders = [path.parent]
    if "sys.path.insert" in code:  # vllm/gpu puts its parent folder on sys.path
        folders.append(path.parent.parent)
    return GpuItem(rel, env, code, 1, tuple(folders))


def gpu_items(config: pytest.Config) -> list[GpuItem]:
    items = []
    for path in sorted((ROOT / "snippets").rglob("*.py")):
        if path.name.startswith("_") or path.name == "conftest.py":
            continue
        for line in path.read_text(encoding="utf8").splitlines()[:10]:
            header = harness.HEADER.match(line)
            if header and "gpu" in [n.strip() for n in header.group("names").split(",")]:
                items.append(snippet_item(path, path.relative_to(ROOT).as_posix(), _env_of(path, config)))
                break
    for page in sorted((ROOT / "docs").rglob("*.md")):
        items += page_items(page, page.relative_to(ROOT).as_posix(), _env_of(page, config), config)
    return items


def page_items(page: Path, rel: str, env: str, config: pytest.Config) -> list[GpuItem]:
    """The `gpu` fences of a page, found as the harness finds them (also inside tabs and admonitions)."""
    return [GpuItem(rel, env, fence.token.content, fence.line + 1, ())  # a fence imports no neighbours
            for fence in harness.parse_page(page, config)
            if fence.language in harness.PYTHON and "gpu" in fence.classes and not fence.includes]


@dataclasses.dataclass
class Report:
    problems: list[str] = dataclasses.field(default_factory=list)
    counts: Counter = dataclasses.field(default_factory=Counter)
    unknown: list[str] = dataclasses.field(default_factory=list)


def _bound_elsewhere(tree: ast.AST) -> set[str]:
    """Names the code binds other than by import (so an imported name may not hold the import)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def check_item(item: GpuItem) -> Report:
    """Every problem of ``item`` as ``file:line: message``, and counts of what was checked."""
    report = Report()
    try:
        tree = ast.parse(item.code)
    except SyntaxError as error:
        report.problems.append(f"{item.rel}:{item.first_line + (error.lineno or 1) - 1}: SyntaxError: {error.msg}")
        return report
    sources = local_sources(item.env, item.folders)

    def where(node: ast.AST) -> str:
        return f"{item.rel}:{item.first_line + node.lineno - 1}"

    def note(result: Result, node: ast.AST, kind: str, path: str) -> None:
        if result.status == FOUND:
            report.counts[f"{kind} checked"] += 1
        elif result.why.endswith(STDLIB):
            report.counts["standard library (not checked)"] += 1
        elif result.status == UNKNOWN:
            report.counts[f"{kind} not checkable"] += 1
            report.unknown.append(f"{where(node)}: {result.why}")
        else:
            owner = sources.owner(path)
            origin = f" ({owner.describe(None, path.split('.')[0])})" if owner is not None else ""
            report.problems.append(f"{where(node)}: {result.why}{origin}")

    bindings: dict[str, set[str]] = {}
    checked_tops = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module = sources.owner(alias.name)
                loaded = module.load(alias.name) if module is not None else None
                note(Result(FOUND, loaded) if loaded is not None else sources.resolve(alias.name), node,
                     "imported names", alias.name)
                bound, target = (alias.asname, alias.name) if alias.asname else (alias.name.split(".")[0],) * 2
                bindings.setdefault(bound, set()).add(target)
                checked_tops.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module:
                report.counts["imported names not checkable"] += len(node.names)
                report.unknown.append(f"{where(node)}: relative import")
                continue
            checked_tops.add(node.module.split(".")[0])
            for alias in node.names:
                if alias.name == "*":
                    report.counts["imported names not checkable"] += 1
                    report.unknown.append(f"{where(node)}: wildcard import")
                    continue
                note(sources.resolve_target(f"{node.module}.{alias.name}"), node, "imported names",
                     f"{node.module}.{alias.name}")
                bindings.setdefault(alias.asname or alias.name, set()).add(f"{node.module}.{alias.name}")
    for top in sorted(checked_tops):
        owner = sources.owner(top)
        why = pin_problems(item.env, top) if owner is not None and owner is not sources else None
        if why:
            report.problems.append(f"{item.rel}:{item.first_line}: {why}")
    rebound = _bound_elsewhere(tree)
    imported = {name: next(iter(t)) for name, t in bindings.items() if len(t) == 1 and name not in rebound}

    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    seen_chains: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in imported):
            continue
        top, attrs = node, []
        while isinstance(parents.get(top), ast.Attribute) and parents[top].value is top:
            top = parents[top]
            attrs.append(top.attr)
        path = ".".join([imported[node.id], *attrs])
        shown = ".".join([node.id, *attrs])
        call = parents.get(top)
        is_call = isinstance(call, ast.Call) and call.func is top
        if (path, node.lineno) in seen_chains and not is_call:
            continue
        seen_chains.add((path, node.lineno))
        result = sources.resolve(path)
        if attrs:
            note(result, node, "attribute chains", path)
        if not is_call:
            continue
        keywords = [k.arg for k in call.keywords if k.arg]
        if not keywords:
            continue
        if result.status != FOUND:
            if result.status == MISSING:
                continue  # already reported as a missing name
            if result.why.endswith(STDLIB):
                report.counts["standard library (not checked)"] += len(keywords)
                continue
            report.counts["keywords not checkable"] += len(keywords)
            report.unknown.append(f"{where(call)}: {shown}(...): {result.why}")
            continue
        owner = sources.owner(path) or sources
        accepted = owner.keywords(result.obj)
        if accepted.status != FOUND:
            report.counts["keywords not checkable"] += len(keywords)
            report.unknown.append(f"{where(call)}: {shown}(...): {accepted.why}")
            continue
        if accepted.obj == ACCEPTS_ANY:
            report.counts["keywords accepted by **kwargs"] += len(keywords)
            continue
        obj = result.obj[0] if isinstance(result.obj, list) else result.obj
        origin = owner.describe(obj.filepath if isinstance(getattr(obj, "filepath", None), Path) else None,
                                path.split(".")[0])
        for keyword in call.keywords:
            if not keyword.arg:
                continue
            if keyword.arg in accepted.obj:
                report.counts["keywords checked"] += 1
            else:
                report.problems.append(f"{item.rel}:{item.first_line + keyword.value.lineno - 1}: keyword "
                                       f"'{keyword.arg}' is not a parameter of {path} ({origin})")
    return report


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gpu_item" in metafunc.fixturenames:
        items = gpu_items(metafunc.config)
        metafunc.parametrize("gpu_item", items, ids=[i.id for i in items])


def _require_sources(env: str | None = None) -> None:
    if griffe is None:
        pytest.fail("tests/test_gpu_static.py needs griffe, which the main environment has (the `checks` extra): "
                    "pip install 'griffe>=2.4,<3'", pytrace=False)
    missing = [m for m in missing_sources()
               if env is None or any(f"{e['dist']}=={e['version']}" in m for e in fetched(env))]
    if missing:
        pytest.fail(f"the pinned sources that tests/test_gpu_static.py reads are missing: {', '.join(missing)}. "
                    f"Fetch them (about 85 MiB, once) with `{FETCH_COMMAND}` (the `tests` session of "
                    "noxfile.py runs it when it installs the main environment).", pytrace=False)


def test_pinned_sources_are_fetched():
    """The sources of tests/gpu/fetch_sources.py are in the cache (a missing one fails, naming the command)."""
    _require_sources()


def test_gpu_item_resolves_against_pinned_sources(gpu_item: GpuItem):
    """Each imported name, attribute chain and keyword argument of one `gpu` item exists in its pinned library."""
    _require_sources(gpu_item.env)
    report = check_item(gpu_item)
    print(f"{gpu_item.id} [{gpu_item.env}]: {dict(sorted(report.counts.items()))}")
    print("\n".join(dict.fromkeys(report.unknown)))
    assert not report.problems, "\n".join(report.problems)


def test_every_environment_has_gpu_items_checked(pytestconfig):
    """The scan finds the `gpu` items of pages and snippets, in each environment that has them."""
    items = gpu_items(pytestconfig)
    envs = Counter(i.env for i in items)
    assert envs["main"] >= 10 and {"optimum", "gptq", "vllm-gpu"} <= set(envs), envs
    assert any("triton-inference-server" in i.rel for i in items), "no Triton item found"
    assert any(i.rel.endswith(".md") and i.first_line > 1 for i in items), "no page fence found"


QLORA = ROOT / "snippets" / "basics" / "peft" / "qlora_4bit.py"
FLASH = ROOT / "snippets" / "optimization" / "flash-attention-2" / "benchmark_attention_memory_gpu.py"
VLLM = ROOT / "snippets" / "optimization" / "vllm" / "gpu" / "llm_cuda_bf16.py"
OPTIMUM = ROOT / "snippets" / "training" / "optimum" / "gpu_cuda_provider.py"


def _planted(tmp_path: Path, source: Path, old: str, new: str, env: str, folders=()) -> tuple[GpuItem, int]:
    text = source.read_text(encoding="utf8")
    assert old in text, f"{source.name} no longer contains {old!r}: update this test"
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new, 1), encoding="utf8")
    line = text[:text.index(old)].count("\n") + 1
    item = snippet_item(copy, str(copy), env)
    item.folders = tuple(folders) or item.folders
    return item, line


@pytest.mark.parametrize(("source", "old", "new", "env", "expected"), [
    (QLORA, "lora_alpha=16", "lora_alph=16", "main",
     "keyword 'lora_alph' is not a parameter of peft.LoraConfig (pinned peft "),
    (FLASH, "sdpa_kernel(SDPBackend", "sdpa_kernel(backendz=SDPBackend", "main",
     "keyword 'backendz' is not a parameter of torch.nn.attention.sdpa_kernel (pinned torch 2."),
    (VLLM, "num_heads=8", "num_head=8", "vllm-gpu",
     "keyword 'num_head' is not a parameter of tiny_llama.save_tiny_llama (snippet-local tiny_llama.py)"),
    (VLLM, "ignore_eos=True", "ignore_eoss=True", "vllm-gpu",
     "keyword 'ignore_eoss' is not a parameter of vllm.SamplingParams (pinned vllm 0.33."),
    (OPTIMUM, "from optimum.onnxruntime import ORTModelForCausalLM", "from optimum.onnxruntime import ORTModelForCausalLMX",
     "optimum", "'optimum.onnxruntime.ORTModelForCausalLMX' not found (pinned optimum-onnx 0.1.0 + optimum 2.1.0)"),
    (QLORA, "from transformers import AutoModelForCausalLM,", "from transformers import NoSuchThing,", "main",
     "'transformers.NoSuchThing' not found (pinned transformers 5."),
])
def test_planted_rename_fails_with_file_and_line(tmp_path, source, old, new, env, expected):
    """A keyword or name renamed in a copy of a real `gpu` snippet is reported with the copy's file:line."""
    _require_sources(env)
    item, line = _planted(tmp_path, source, old, new, env,
                          folders=[source.parent, source.parent.parent] if env == "vllm-gpu" else ())
    problems = check_item(item).problems
    assert f"{item.rel}:{line}: {expected}" in "\n".join(problems), problems
    assert len(problems) == 1, problems


PAGE = """# A page

=== "CPU"

    ```python
    import torch
    ```

=== "GPU"

    ```{.python .gpu}
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(backendz=[SDPBackend.MATH]):
        x = torch.randn(2, 2, device="cuda")
    ```
"""


def test_planted_rename_in_a_page_fence_names_the_page_line(tmp_path, pytestconfig):
    """A `gpu` fence (here inside a content tab) is read at its page's line numbers."""
    _require_sources("main")
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf8")
    items = page_items(page, "page.md", "main", pytestconfig)
    assert [i.first_line for i in items] == [12]
    problems = check_item(items[0]).problems
    assert problems == ["page.md:15: keyword 'backendz' is not a parameter of torch.nn.attention.sdpa_kernel "
                        f"(pinned torch {fetch_sources.pins('main')['torch']})"], problems


def test_missing_sources_fail_naming_the_fetch_command(monkeypatch, tmp_path):
    """Without the fetched sources the check fails (it never skips), and says how to fetch them."""
    monkeypatch.setattr(fetch_sources, "SOURCES_DIR", tmp_path)
    monkeypatch.setattr(fetch_sources, "plan", functools.partial(_plan_in, tmp_path, fetch_sources.plan))
    with pytest.raises(pytest.fail.Exception, match=re.escape(FETCH_COMMAND)):
        _require_sources()


def _plan_in(folder: Path, plan) -> list[dict]:
    return [{**e, "path": folder / Path(e["path"]).name} for e in plan()]
