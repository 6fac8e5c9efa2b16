"""Pitfall: a decoupled (streaming) model called with HTTP infer
(triton-inference-server/server#2168)."""
import os
import queue

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
prompt = np.array([[5, 17, 42, 99, 3]], dtype=np.int64)


def inputs_for(client_module):
    inputs = [client_module.InferInput("input_ids", list(prompt.shape), "INT64"),
              client_module.InferInput("max_new_tokens", [1], "INT32")]
    inputs[0].set_data_from_numpy(prompt)
    inputs[1].set_data_from_numpy(np.array([4], dtype=np.int32))
    return inputs


# WRONG: HTTP's infer expects exactly one response per request; the server refuses.
with httpclient.InferenceServerClient(http_url) as client:
    try:
        client.infer("tiny_llama_stream", inputs_for(httpclient))
        raise AssertionError("HTTP infer reached a decoupled model")
    except InferenceServerException as error:
        print("wrong:", error.status(), error.message())
        assert "doesn't support models with decoupled transaction policy" in error.message()

# RIGHT: gRPC's bidirectional stream, which carries any number of responses per request.
responses = queue.Queue()
with grpcclient.InferenceServerClient(grpc_url) as client:
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    client.async_stream_infer("tiny_llama_stream", inputs_for(grpcclient))
    tokens = []
    for _ in range(4):  # the model sends 4 token responses (and an empty final one, not asked for)
        result, error = responses.get(timeout=60)
        assert error is None, error
        tokens.append(int(result.as_numpy("token_id")[0]))
    client.stop_stream()
print("right: 4 streamed tokens:", tokens)
