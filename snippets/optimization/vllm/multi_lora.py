"""Several LoRA adapters served by one engine: each request names its adapter (LoRARequest)."""
import os

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # why: see offline_greedy_vs_hf.py
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")

import copy
import json
import tempfile

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer
from vllm import LLM, SamplingParams
from vllm.lora.request import LoRARequest

from tiny_llama import prompts, save_tiny_llama

RANK, ALPHA = 8, 16


# --8<-- [start:adapter]
def save_lora_adapter(folder, base_model, seed):
    """Write a random rank-8 LoRA on q_proj and v_proj in PEFT's file format; return its tensors.

    The format is what `peft`'s `save_pretrained` writes (adapter_config.json and
    adapter_model.safetensors, keys base_model.model.<module>.lora_A/B.weight); peft is not
    installed in vLLM's environment, so the files are written directly.
    """
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, module in base_model.named_modules():
        if name.endswith(("q_proj", "v_proj")):
            out_features, in_features = module.weight.shape
            tensors[f"base_model.model.{name}.lora_A.weight"] = (
                torch.randn(RANK, in_features, generator=generator) / in_features ** 0.5)
            tensors[f"base_model.model.{name}.lora_B.weight"] = (
                torch.randn(out_features, RANK, generator=generator) * 0.5)
    os.makedirs(folder)
    save_file(tensors, os.path.join(folder, "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": RANK, "lora_alpha": ALPHA,
              "target_modules": ["q_proj", "v_proj"], "lora_dropout": 0.0, "bias": "none"}
    json.dump(config, open(os.path.join(folder, "adapter_config.json"), "w"))
    return tensors
# --8<-- [end:adapter]


def merged(base_model, tensors):
    """A copy of the model with W + (alpha / r) * B @ A in every adapted layer (what LoRA means)."""
    model = copy.deepcopy(base_model)
    for name, module in model.named_modules():
        key = f"base_model.model.{name}.lora_A.weight"
        if key in tensors:
            delta = tensors[key.replace("lora_A", "lora_B")] @ tensors[key]
            module.weight.data += ALPHA / RANK * delta
    return model


with tempfile.TemporaryDirectory() as folder:
    base = save_tiny_llama(os.path.join(folder, "base"))
    adapters = {name: save_lora_adapter(os.path.join(folder, name), base, seed)
                for name, seed in (("sql", 1), ("poetry", 2))}
    # --8<-- [start:serve]
    llm = LLM(model=os.path.join(folder, "base"), dtype="float32", enforce_eager=True,
              enable_lora=True, max_loras=2, max_lora_rank=RANK)  # 2 adapters in one batch
    requests = {"sql": LoRARequest("sql", 1, os.path.join(folder, "sql")),  # name, id, path
                "poetry": LoRARequest("poetry", 2, os.path.join(folder, "poetry"))}
    text = prompts(1)[0]
    params = SamplingParams(temperature=0, max_tokens=12)
    # One generate call, one batch: each prompt runs with its own adapter.
    outputs = llm.generate([text] * 2, params, lora_request=list(requests.values()),
                           use_tqdm=False)
    # The base model, without an adapter, in a call of its own: lora_request's list takes a
    # LoRARequest per prompt, and a None among them was served with an adapter here.
    outputs += llm.generate([text], params, use_tqdm=False)
    requests["base"] = None
    # --8<-- [end:serve]
    ids = AutoTokenizer.from_pretrained(os.path.join(folder, "base"))(
        text, return_tensors="pt").input_ids
    tokens = {}
    for (name, _), out in zip(requests.items(), outputs):
        model = base if name == "base" else merged(base, adapters[name])
        with torch.inference_mode():
            expected = model.generate(ids, max_new_tokens=12, do_sample=False)[0, ids.shape[1]:]
        tokens[name] = list(out.outputs[0].token_ids)
        print(f"{name:>6}: {tokens[name][:6]}...  same as generate() with the merged weights: "
              f"{tokens[name] == expected.tolist()}")
        assert tokens[name] == expected.tolist()
    print("three different outputs:", len({tuple(t) for t in tokens.values()}) == 3)
    assert len({tuple(t) for t in tokens.values()}) == 3
