# pytest: gpu, needs-tritonclient, needs-triton-server
# --8<-- [start:code]
"""The tiny Llama on a KIND_GPU instance: the same greedy tokens as the CPU instance gives."""
import os

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
prompt = np.array([[5, 17, 42, 99, 3]], dtype=np.int64)


def generate(model, max_new_tokens=12):
    with grpcclient.InferenceServerClient(grpc_url) as client:
        inputs = [grpcclient.InferInput("input_ids", list(prompt.shape), "INT64"),
                  grpcclient.InferInput("max_new_tokens", [1], "INT32")]
        inputs[0].set_data_from_numpy(prompt)
        inputs[1].set_data_from_numpy(np.array([max_new_tokens], dtype=np.int32))
        return client.infer(model, inputs).as_numpy("output_ids")


with httpclient.InferenceServerClient(http_url) as client:
    group = client.get_model_config("tiny_llama_gpu")["instance_group"][0]
print("instance group:", group["kind"], "gpus", group["gpus"])
assert group["kind"] == "KIND_GPU"

on_gpu, on_cpu = generate("tiny_llama_gpu"), generate("tiny_llama")
print("gpu:", on_gpu.tolist())
print("cpu:", on_cpu.tolist())
# float32 on both devices; the smallest gap between the two best logits of these 12 steps is
# ~5e-3, far above the rounding differences of GPU kernels, so greedy picks the same tokens.
np.testing.assert_array_equal(on_gpu, on_cpu)
# --8<-- [end:code]
