"""Fetch the Python source of the pinned libraries that the `gpu` items of other environments import.

    python tests/gpu/fetch_sources.py            fetch what is missing (a no-op when all is there)
    python tests/gpu/fetch_sources.py --check    exit 1, naming what is missing, without fetching

tests/test_gpu_static.py resolves every `gpu` item's imported names and keyword arguments against
the source of the libraries its environment pins, without importing them, from the main
environment. The main environment has most of them installed. The others, listed in ``SOURCES``,
come from here: the libraries of the optimum and gptq environments whose pin in
``constraints/<env>.txt`` differs from ``constraints/main.txt`` (or that main lacks), and the
official vLLM, whose CUDA-only wheel no machine here installs (the ``vllm-gpu`` extra of
pyproject.toml is not locked; ``VLLM_GPU`` is the newest release it allows).

Each archive (a pure-Python wheel, else the source archive, else a Linux x86_64 wheel, whose
Python files are the same) is found through the index's JSON simple API (PEP 691; ``$PIP_INDEX_URL``
or PyPI), checked against its sha256, and only its ``*.py``/``*.pyi`` files of the listed import
packages are kept, in ``$LLM_STUDY_CACHE/sources/<name>-<version>/`` (default
``~/.cache/llm-study/sources``), with ``source.json`` saying what is there. Nothing is built or
installed: ``pip download`` would build vLLM's metadata, which needs its build requirements.
Run it at install time (the test run is offline); a source already there is never fetched again.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import ssl
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LLM_STUDY_CACHE", Path.home() / ".cache" / "llm-study"))
SOURCES_DIR = CACHE / "sources"
# Newest release allowed by the `vllm-gpu` extra of pyproject.toml (vllm>=0.33,<0.34) on PyPI.
VLLM_GPU = "0.33.0"

# environment -> [(distribution, import packages it provides)]. The version is the environment's pin
# (constraints/<env>.txt), or VLLM_GPU for vllm-gpu. A distribution pinned there at the same version
# as in constraints/main.txt is read from the main environment instead and not fetched.
SOURCES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "optimum": [("optimum-onnx", ("optimum",)), ("optimum", ("optimum",)), ("onnxruntime", ("onnxruntime",)),
                ("transformers", ("transformers",)), ("torch", ("torch",))],
    "gptq": [("gptqmodel", ("gptqmodel",)), ("optimum", ("optimum",)), ("transformers", ("transformers",)),
             ("torch", ("torch",))],
    "vllm-gpu": [("vllm", ("vllm",))],
}


def normalize(name: str) -> str:
    """PEP 503 name: ``GPTQModel`` and ``optimum_onnx`` become ``gptqmodel`` and ``optimum-onnx``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(env: str) -> dict[str, str]:
    """``{normalized name: version}`` of ``constraints/<env>.txt``."""
    out = {}
    for line in (ROOT / "constraints" / f"{env}.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if match:
            out[normalize(match.group(1))] = match.group(2)
    return out


def plan() -> list[dict]:
    """What each environment reads from a fetched source: one dict per (environment, distribution).

    Keys: ``env``, ``dist``, ``version``, ``imports``, ``path`` (the folder in the cache) and
    ``fetch`` (False when the main environment has the same pin, so it is read from there).
    """
    main = pins("main")
    out = []
    for env, dists in SOURCES.items():
        env_pins = pins(env) if env != "vllm-gpu" else {"vllm": VLLM_GPU}
        for dist, imports in dists:
            version = env_pins[normalize(dist)]
            out.append({"env": env, "dist": normalize(dist), "version": version, "imports": list(imports),
                        "path": SOURCES_DIR / f"{normalize(dist)}-{version}",
                        "fetch": main.get(normalize(dist)) != version})
    return out


def is_complete(path: Path) -> bool:
    return (path / "source.json").is_file()


def _context() -> ssl.SSLContext:
    cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=cafile if cafile and Path(cafile).is_file() else None)


def _get(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=180, context=_context()) as response:
        return response.read()


def choose_file(files: list[dict], dist: str, version: str) -> dict:
    """The archive to read: a pure-Python wheel, else the sdist, else a Linux x86_64 wheel, else any wheel."""
    stem = re.sub(r"[-_.]+", "_", dist)
    mine = [f for f in files if not f.get("yanked")
            and (re.fullmatch(rf"{re.escape(stem)}-{re.escape(version)}-.+\.whl", f["filename"], re.I)
                 or re.fullmatch(rf"{re.escape(stem)}-{re.escape(version)}\.tar\.gz", f["filename"], re.I)
                 or re.fullmatch(rf"{re.escape(dist)}-{re.escape(version)}\.tar\.gz", f["filename"], re.I))]

    def rank(f: dict) -> tuple:
        name = f["filename"]
        return (not name.endswith("-py3-none-any.whl"), not name.endswith(".tar.gz"),
                not (name.endswith(".whl") and "manylinux" in name and "x86_64" in name), "cp311" not in name,
                f.get("size") or 0)

    if not mine:
        raise SystemExit(f"fetch_sources: no archive of {dist}=={version} on the index")
    return sorted(mine, key=rank)[0]


def _keep(member: str, imports: list[str]) -> str | None:
    """Where to keep archive path ``member`` (``<import>/...py``), or None; an sdist may nest it under src/."""
    parts = member.split("/")
    if parts[0] == "src":
        parts = parts[1:]
    if any(part in ("", ".", "..") for part in parts):  # nothing outside the folder it goes to
        return None
    if len(parts) > 1 and parts[0] in imports and member.endswith((".py", ".pyi")):
        return "/".join(parts)
    return None


def fetch(entry: dict, index: str) -> int:
    """Download, check and unpack one source into ``entry["path"]``; return the archive's size."""
    dist, version, dest = entry["dist"], entry["version"], Path(entry["path"])
    listing = json.loads(_get(f"{index.rstrip('/')}/{dist}/", "application/vnd.pypi.simple.v1+json"))
    chosen = choose_file(listing["files"], dist, version)
    data = _get(chosen["url"])
    digest = hashlib.sha256(data).hexdigest()
    if chosen.get("hashes", {}).get("sha256") not in (None, digest):
        raise SystemExit(f"fetch_sources: sha256 mismatch for {chosen['filename']}")
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    kept = 0
    try:
        if chosen["filename"].endswith(".whl"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    target = _keep(name, entry["imports"]) if not name.split("/")[0].endswith(".data") else None
                    if target and not name.endswith("/"):
                        (tmp / target).parent.mkdir(parents=True, exist_ok=True)
                        (tmp / target).write_bytes(archive.read(name))
                        kept += 1
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                for member in archive.getmembers():
                    inner = member.name.split("/", 1)[1] if "/" in member.name else ""
                    target = _keep(inner, entry["imports"])
                    if target and member.isfile():
                        (tmp / target).parent.mkdir(parents=True, exist_ok=True)
                        (tmp / target).write_bytes(archive.extractfile(member).read())
                        kept += 1
        if not kept:
            raise SystemExit(f"fetch_sources: {chosen['filename']} holds no Python files of {entry['imports']}")
        (tmp / "source.json").write_text(json.dumps(
            {"dist": dist, "version": version, "imports": entry["imports"], "file": chosen["filename"],
             "url": chosen["url"], "sha256": digest, "size": len(data), "python_files": kept}, indent=1))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say what is missing (exit 1 if anything is)")
    args = parser.parse_args(argv)
    wanted = {(e["dist"], e["version"]): e for e in plan() if e["fetch"]}
    missing = [e for e in wanted.values() if not is_complete(e["path"])]
    if args.check or not missing:
        for e in missing:
            print(f"missing: {e['dist']}=={e['version']} ({e['path']})")
        if not missing:
            print(f"fetch_sources: {len(wanted)} sources present in {SOURCES_DIR}")
        return 1 if missing else 0
    SOURCES_DIR.mkdir(parents=True, exist_ok=True)
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple")
    total = 0
    for e in missing:
        size = fetch(e, index)
        total += size
        print(f"fetch_sources: {e['dist']}=={e['version']}: {size / 2**20:.1f} MiB -> {e['path']}")
    print(f"fetch_sources: downloaded {total / 2**20:.1f} MiB in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
