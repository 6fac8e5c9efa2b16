"""Start the Triton Inference Server that nvidia-pytriton's wheel bundles, on free loopback ports.

The server runs from an environment of its own (pytriton needs numpy<2), found from the variable
``TRITON_SERVER_VENV`` or passed as ``venv=``. This module is not a snippet (its name starts with
``_``): the page's ``conftest.py`` starts one server for all snippets of the folder with it, and
the benchmark starts its own when no server is given.

    with triton_server([MODEL_REPOSITORY]) as server:
        print(server.http_url, server.grpc_url, server.metrics_url)

What the bundled binary needs, besides its command line:

* ``LD_LIBRARY_PATH``: the server environment interpreter's library folder first (the Python
  backend stub links ``libpython3.X.so``, which must be that interpreter's, not another build's),
  then ``nvidia_pytriton.libs`` (the wheel's bundled libraries, as pytriton's own launcher sets).
* A backend folder holding ``python/`` with ``libtriton_python.so`` and the stub built for this
  Python version (the wheel keeps one stub per version apart): built in a temporary folder here.
* ``PATH`` starting with the environment's ``bin``: the stub embeds Python, which finds its
  ``sys.prefix``, so the environment's ``site-packages`` (torch, transformers), through the
  ``python3`` it finds first on ``PATH`` and that one's ``pyvenv.cfg``. pytriton does the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_REPOSITORY = HERE / "model_repository"
GPU_MODEL_REPOSITORY = HERE / "model_repository_gpu"

# Asked of the server environment's interpreter: where its libpython and pytriton are.
_PROBE = """
import importlib.util, json, sys, sysconfig
spec = importlib.util.find_spec("pytriton")
print(json.dumps({"libdir": sysconfig.get_config_var("LIBDIR"),
                  "version": "%d.%d" % sys.version_info[:2],
                  "pytriton": spec.submodule_search_locations[0] if spec else None}))
"""


@dataclasses.dataclass
class TritonServer:
    """A running server: its endpoints as ``host:port`` (the form tritonclient wants)
    and its log."""

    http_url: str
    grpc_url: str
    metrics_url: str
    log_path: Path
    process: subprocess.Popen

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(venv: str | os.PathLike | None = None) -> dict:
    """Paths of the server environment: its python, libpython folder, binary and backend files."""
    venv = venv or os.environ.get("TRITON_SERVER_VENV")
    if not venv:
        raise RuntimeError("set TRITON_SERVER_VENV to the virtual environment that holds "
                           "nvidia-pytriton (`nox -s triton` builds it and sets it)")
    python = Path(venv) / "bin" / "python"
    probe = json.loads(subprocess.run([str(python), "-c", _PROBE], check=True, capture_output=True,
                                      text=True).stdout)
    if probe["pytriton"] is None:
        raise RuntimeError(f"nvidia-pytriton is not installed in {venv}")
    package = Path(probe["pytriton"])
    return {
        "venv": Path(venv),
        "libdir": probe["libdir"],
        "binary": package / "tritonserver" / "bin" / "tritonserver",
        "libs": package.parent / "nvidia_pytriton.libs",
        "python_backend": package / "tritonserver" / "backends" / "python",
        "stub": (package / "tritonserver" / "python_backend_stubs" / probe["version"]
                 / "triton_python_backend_stub"),
    }


# No proxy for loopback, whatever http_proxy says.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _ready(http_url: str) -> bool:
    try:
        with _LOCAL.open(f"http://{http_url}/v2/health/ready", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def triton_server(repositories=(MODEL_REPOSITORY,), models: list[str] | None = None,
                  venv: str | os.PathLike | None = None, ports: dict[str, int] | None = None,
                  timeout_s: float = 300):
    """Run ``tritonserver`` on 127.0.0.1 until the ``with`` block ends.

    Args:
        repositories: model repository folders (several are allowed; model names must differ).
        models: load only these models (``--model-control-mode=explicit``); default: all of them.
        venv: the server environment; default ``$TRITON_SERVER_VENV``.
        ports: ``{"http": ..., "grpc": ..., "metrics": ...}``; default: free ports.
        timeout_s: how long to wait for ``/v2/health/ready`` (every model loaded).

    Raises:
        RuntimeError: the server exited or was not ready in time; the message ends with its log.
    """
    paths = server_environment(venv)
    with tempfile.TemporaryDirectory(prefix="triton-") as tmp:
        # The backend folder Triton searches: python/ with the backend library and the stub that
        # matches the server environment's Python version (links; nothing is copied).
        backend = Path(tmp) / "backends" / "python"
        backend.mkdir(parents=True)
        for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
            (backend / name).symlink_to(paths["python_backend"] / name)
        (backend / "triton_python_backend_stub").symlink_to(paths["stub"])

        ports = ports or {name: free_port() for name in ("http", "grpc", "metrics")}
        # --disable-auto-complete-config: the configs are complete, so the Python backend need not
        # start an extra stub per model (importing its model.py, torch and all) to ask for more.
        command = [str(paths["binary"]), "--backend-directory", str(backend.parent),
                   "--disable-auto-complete-config", "--exit-timeout-secs", "15"]
        for repository in repositories:
            command += ["--model-repository", str(repository)]
        for name, port in ports.items():
            command += [f"--{name}-address", "127.0.0.1", f"--{name}-port", str(port)]
        if models is not None:
            command += ["--model-control-mode", "explicit"]
            for model in models:
                command += ["--load-model", model]

        env = {key: value for key, value in os.environ.items()
               if key not in ("PYTHONPATH", "PYTHONHOME")}
        library_path = [paths["libdir"], str(paths["libs"])]
        if env.get("LD_LIBRARY_PATH"):
            library_path.append(env["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(library_path)
        env["PATH"] = f"{paths['venv'] / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONNOUSERSITE"] = "1"

        log_path = Path(tmp) / "tritonserver.log"
        with open(log_path, "w") as log:
            # A session of its own: at the end the server and its backend stubs go together.
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        server = TritonServer(f"127.0.0.1:{ports['http']}", f"127.0.0.1:{ports['grpc']}",
                              f"127.0.0.1:{ports['metrics']}", log_path, process)
        try:
            deadline = time.monotonic() + timeout_s
            while not _ready(server.http_url):
                if process.poll() is not None:
                    raise RuntimeError(f"tritonserver exited with status {process.returncode}:\n"
                                       f"{server.log_tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"tritonserver not ready after {timeout_s:.0f} s:\n"
                                       f"{server.log_tail()}")
                time.sleep(0.2)
            yield server
        finally:
            _stop(process)


def _stop(process: subprocess.Popen, wait_s: float = 30) -> None:
    """SIGTERM (the server unloads its models and stops its stubs), then SIGKILL the whole group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # a stub left behind, if any
    process.wait()


if __name__ == "__main__":
    # By hand: serve this page's model repository on Triton's usual ports until Ctrl-C, so that
    # each snippet runs alone with its defaults (127.0.0.1:8000 for HTTP, :8001 for gRPC).
    import argparse

    parser = argparse.ArgumentParser(
        description="Serve the Triton page's model repository on 127.0.0.1.")
    parser.add_argument("--venv", help="the server environment (default: $TRITON_SERVER_VENV)")
    parser.add_argument("--gpu", action="store_true",
                        help="also serve model_repository_gpu (needs CUDA)")
    args = parser.parse_args()
    repositories = [MODEL_REPOSITORY] + ([GPU_MODEL_REPOSITORY] if args.gpu else [])
    # `kill` (SIGTERM) stops the server too: raise KeyboardInterrupt so the `with` block ends.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    default_ports = {"http": 8000, "grpc": 8001, "metrics": 8002}
    with triton_server(repositories, venv=args.venv, ports=default_ports) as server:
        print(f"ready: HTTP {server.http_url}, gRPC {server.grpc_url}, "
              f"metrics {server.metrics_url}; log {server.log_path}; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.process.wait()
