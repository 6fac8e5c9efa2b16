"""Imported at start-up by every Python process that a distributed item starts (the harness puts
this folder on PYTHONPATH), including the ranks those processes spawn. It carries two of the
harness's rules into those processes:

* **Log records stay out of stdout.** A library that logs to ``sys.stdout`` (DeepSpeed's
  ``[WARNING] ... Setting accelerator to CPU``) would mix its records into what the item prints.
  A ``logging.StreamHandler`` aimed at stdout is aimed at stderr instead: the records still show
  in the test's output, and stdout holds only what the code printed.
* **Deprecated calls fail the item.** With ``LLM_STUDY_DEPRECATIONS`` set (a file path), every
  DeprecationWarning, PendingDeprecationWarning or FutureWarning raised while page or snippet code
  (a path under ``LLM_STUDY_SITE_ROOTS``) is on the stack is appended to that file as
  ``file:line: Category: message``; the harness fails the item when the file is not empty. The
  ``filterwarnings`` entries of ``pyproject.toml`` (``LLM_STUDY_WARNING_FILTERS``, JSON) apply here
  as in the harness's own process.
"""

import builtins
import importlib
import json
import logging
import os
import sys
import traceback
import warnings

_original_init = logging.StreamHandler.__init__


def _init_to_stderr(self, stream=None):
    if stream is not None and stream in (sys.stdout, sys.__stdout__):
        stream = sys.stderr
    _original_init(self, stream)


logging.StreamHandler.__init__ = _init_to_stderr

_DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _category(name):
    """A warning class from its name in a filter (``FutureWarning``, ``pkg.module.SomeWarning``)."""
    if "." not in name:
        return getattr(builtins, name)
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def _apply_filter(text):
    """Apply one pytest-style filter ``action:message:category:module:lineno`` (regexes, as in ini files)."""
    parts = (text.split(":") + [""] * 5)[:5]
    action, message, category, module, lineno = (part.strip() for part in parts)
    warnings.filterwarnings(action or "default", message, _category(category) if category else Warning,
                            module, int(lineno) if lineno else 0)


def _record_deprecations(path, roots):
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, _DEPRECATIONS):
            where = f"{filename}:{lineno}" if str(filename).startswith(roots) else None
            if where is None:  # attributed inside a library: the innermost site frame that led there
                for frame, frame_line in traceback.walk_stack(None):
                    if frame.f_code.co_filename.startswith(roots):
                        where = f"{frame.f_code.co_filename}:{frame_line}"
                        break
            if where is not None:
                raised_in = "" if where == f"{filename}:{lineno}" else f" (warned in {filename}:{lineno})"
                with open(path, "a") as out:
                    out.write(f"{where}: {category.__name__}: {message}{raised_in}\n")
        previous(message, category, filename, lineno, file, line)

    warnings.showwarning = show


if os.environ.get("LLM_STUDY_DEPRECATIONS"):
    for _kind in _DEPRECATIONS:  # shown wherever they come from, then pyproject's ignores on top
        warnings.filterwarnings("always", category=_kind)
    for _text in json.loads(os.environ.get("LLM_STUDY_WARNING_FILTERS", "[]")):
        _apply_filter(_text)
    _record_deprecations(os.environ["LLM_STUDY_DEPRECATIONS"],
                         tuple(root + os.sep for root in os.environ.get("LLM_STUDY_SITE_ROOTS", "").split(os.pathsep) if root))
