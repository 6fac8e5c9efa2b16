"""An ensemble: text in, text out; the server runs tokenizer -> tiny_llama -> detokenizer."""
import os

import numpy as np
import torch
import tritonclient.http as httpclient
from transformers import LlamaConfig, LlamaForCausalLM

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
prompt = "Triton "

with httpclient.InferenceServerClient(http_url) as client:
    steps = client.get_model_config("text_generation")["ensemble_scheduling"]["step"]
    print("steps:", " -> ".join(step["model_name"] for step in steps))
    # --8<-- [start:call]
    inputs = [httpclient.InferInput("text", [1], "BYTES"),
              httpclient.InferInput("max_new_tokens", [1], "INT32")]
    inputs[0].set_data_from_numpy(np.array([prompt.encode()], dtype=np.object_))
    inputs[1].set_data_from_numpy(np.array([8], dtype=np.int32))
    result = client.infer("text_generation", inputs)  # one request, three models
    completion = result.as_numpy("completion")[0].decode()
    # --8<-- [end:call]
    parameters = client.get_model_config("tiny_llama")["parameters"]

# The same pipeline in this process: bytes as ids, the same seeded model, greedy, bytes back.
values = {key: int(value["string_value"]) for key, value in parameters.items()}
torch.manual_seed(values.pop("seed"))
model = LlamaForCausalLM(LlamaConfig(**values)).eval()
ids = torch.tensor([list(prompt.encode())])
with torch.no_grad():
    out = model.generate(ids, max_new_tokens=8, do_sample=False)[0].tolist()
local = bytes(out).decode("utf-8", errors="replace")
print("completion starts with the prompt:", completion.startswith(prompt))
print("same text as the local pipeline:", completion == local)
assert completion == local
