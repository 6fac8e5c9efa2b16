# pytest: slow
# --8<-- [start:code]
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import torch
from openai import OpenAI
from transformers import AutoTokenizer

from tiny_llama import save_tiny_llama

with socket.socket() as sock:  # a free port on loopback, chosen by the kernel
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

with tempfile.TemporaryDirectory() as folder:
    hf_model = save_tiny_llama(folder)
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_NO_USAGE_STATS": "1",
           "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}  # engine core + worker in one child, not two
    # `vllm serve FOLDER ...` runs this same server; vllm-cpu 0.32's `vllm` command fails on startup
    # (it asks for the version of a package named "vllm"), so we start the server's module directly.
    command = [sys.executable, "-m", "vllm.entrypoints.launchers.api_server.entry",
               "--model", folder, "--served-model-name", "tiny-llama",
               "--host", "127.0.0.1", "--port", str(port),
               "--dtype", "float32", "--enforce-eager"]
    log = open(os.path.join(folder, "server.log"), "w")
    # A session of its own: the server starts an engine process, and killpg stops them all.
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:  # /health answers 200 once the engine is up
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(open(log.name).read()[-3000:])
                time.sleep(0.5)
        with urllib.request.urlopen(f"{base}/v1/models") as response:  # plain HTTP works too
            print("models:", [m["id"] for m in json.load(response)["data"]])

        client = OpenAI(base_url=f"{base}/v1", api_key="unused")  # the official OpenAI client
        prompt = "The import statement"
        completion = client.completions.create(
            model="tiny-llama", prompt=prompt, max_tokens=8, temperature=0,
            extra_body={"return_token_ids": True})  # a vLLM extension of the OpenAI schema
        choice = completion.choices[0]
        print("finish:", choice.finish_reason, "| usage:", completion.usage.prompt_tokens, "+",
              completion.usage.completion_tokens, "tokens")

        ids = AutoTokenizer.from_pretrained(folder)(prompt, return_tensors="pt").input_ids
        with torch.inference_mode():
            expected = hf_model.generate(ids, max_new_tokens=8, do_sample=False)[0, ids.shape[1]:]
        print("same tokens as HF generate:", choice.token_ids == expected.tolist())
        assert choice.token_ids == expected.tolist()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the whole group: API server and engine core
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    print("server stopped, exit code", server.returncode)
# --8<-- [end:code]
