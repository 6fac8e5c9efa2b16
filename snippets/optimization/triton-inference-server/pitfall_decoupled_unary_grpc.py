"""Pitfall: a decoupled model called with gRPC's unary infer(), not the stream
(triton-inference-server/tensorrtllm_backend#51)."""
import os
import queue

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
prompt = np.array([[5, 17, 42, 99, 3]], dtype=np.int64)
inputs = [grpcclient.InferInput("input_ids", list(prompt.shape), "INT64"),
          grpcclient.InferInput("max_new_tokens", [1], "INT32")]
inputs[0].set_data_from_numpy(prompt)
inputs[1].set_data_from_numpy(np.array([4], dtype=np.int32))

with grpcclient.InferenceServerClient(grpc_url) as client:
    # WRONG: infer() and async_infer() use the ModelInfer RPC: one request, one response.
    try:
        client.infer("tiny_llama_stream", inputs)
        raise AssertionError("unary gRPC reached a decoupled model")
    except InferenceServerException as error:
        print("wrong:", error.status(), error.message())
        assert "ModelInfer RPC doesn't support models with decoupled" in error.message()

    # RIGHT: the same client, through ModelStreamInfer (start_stream + async_stream_infer).
    responses = queue.Queue()
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    client.async_stream_infer("tiny_llama_stream", inputs)
    results = [responses.get(timeout=60) for _ in range(4)]
    client.stop_stream()
assert all(error is None for _, error in results)
print("right: 4 responses, token ids", [int(r.as_numpy("token_id")[0]) for r, _ in results])
