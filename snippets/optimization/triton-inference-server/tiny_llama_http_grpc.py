"""Greedy generation on the server, over HTTP and over gRPC, equals `generate` run locally."""
import os

import numpy as np
import torch
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from transformers import LlamaConfig, LlamaForCausalLM

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
prompt = np.array([[5, 17, 42, 99, 3]], dtype=np.int64)  # token ids, shape [batch, length]
max_new = np.array([12], dtype=np.int32)


def generate_on_server(client_module, url):
    # The two client modules mirror each other: InferInput, set_data_from_numpy, infer, as_numpy.
    with client_module.InferenceServerClient(url) as client:
        inputs = [client_module.InferInput("input_ids", list(prompt.shape), "INT64"),
                  client_module.InferInput("max_new_tokens", [1], "INT32")]
        inputs[0].set_data_from_numpy(prompt)
        inputs[1].set_data_from_numpy(max_new)
        return client.infer("tiny_llama", inputs).as_numpy("output_ids")


from_http = generate_on_server(httpclient, http_url)
from_grpc = generate_on_server(grpcclient, grpc_url)

# The model's architecture and seed are parameters of its config.pbtxt: rebuild it here.
with httpclient.InferenceServerClient(http_url) as client:
    parameters = client.get_model_config("tiny_llama")["parameters"]
values = {key: int(value["string_value"]) for key, value in parameters.items()}
torch.manual_seed(values.pop("seed"))
model = LlamaForCausalLM(LlamaConfig(**values)).eval()
with torch.no_grad():
    local = model.generate(torch.tensor(prompt), max_new_tokens=int(max_new[0]),
                           do_sample=False).numpy()

print("http:", from_http.tolist())
print("grpc:", from_grpc.tolist())
print("local:", local.tolist())
assert from_http.dtype == np.int64 and from_http.shape == (1, 5 + 12)
np.testing.assert_array_equal(from_http, local)
np.testing.assert_array_equal(from_grpc, local)
