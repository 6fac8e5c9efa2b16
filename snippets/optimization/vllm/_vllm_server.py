"""Start vLLM's OpenAI-compatible server on a free loopback port, and stop it (used by benchmarks).

`openai_server.py` shows the same steps inline, with comments; this module is what other scripts
import so that they do not repeat them.
"""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


@contextlib.contextmanager
def vllm_server(folder, *args, name="tiny-llama", timeout=600, engine_process=True):
    """Run the server for the model in `folder` with extra CLI `args`; yield (base URL, port).

    `engine_process=False` runs the engine core inside the server process
    (VLLM_ENABLE_V1_MULTIPROCESSING=0): it starts faster, but streamed responses then arrive in
    one piece.

    Raises RuntimeError with the end of the server's log if it exits or is not healthy within
    `timeout` seconds. The server's whole process group is stopped on exit.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The engine core runs in a process of its own (the default): with
    # VLLM_ENABLE_V1_MULTIPROCESSING=0 it would run inside the server's event loop, and a
    # streamed response would arrive in one piece at the end (inter-token latency 0).
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_NO_USAGE_STATS": "1"}
    env.pop("VLLM_ENABLE_V1_MULTIPROCESSING", None)
    if not engine_process:
        env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    command = [sys.executable, "-m", "vllm.entrypoints.launchers.api_server.entry",
               "--model", folder, "--served-model-name", name, "--host", "127.0.0.1",
               "--port", str(port), "--dtype", "float32", "--enforce-eager", *args]
    log_path = os.path.join(folder, "server.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(open(log_path).read()[-3000:])
                    time.sleep(0.5)
            yield base, port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
