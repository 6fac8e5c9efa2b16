"""Decoupled streaming: one gRPC response per generated token, as the model produces them."""
import os
import queue
import time

import numpy as np
import tritonclient.grpc as grpcclient

grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
prompt = np.array([[5, 17, 42, 99, 3]], dtype=np.int64)
max_new = 12


def inputs_for(client_module):
    inputs = [client_module.InferInput("input_ids", list(prompt.shape), "INT64"),
              client_module.InferInput("max_new_tokens", [1], "INT32")]
    inputs[0].set_data_from_numpy(prompt)
    inputs[1].set_data_from_numpy(np.array([max_new], dtype=np.int32))
    return inputs


# --8<-- [start:stream]
responses = queue.Queue()
with grpcclient.InferenceServerClient(grpc_url) as client:
    # One bidirectional stream; the callback runs on a gRPC thread for every response.
    client.start_stream(callback=lambda result, error: responses.put((result, error, time.time())))
    start = time.time()
    client.async_stream_infer("tiny_llama_stream", inputs_for(grpcclient),
                              enable_empty_final_response=True)  # also deliver the end flag
    tokens, arrivals = [], []
    while True:
        result, error, arrived = responses.get(timeout=60)
        assert error is None, error
        response = result.get_response()
        if response.parameters["triton_final_response"].bool_param:
            break  # the model's COMPLETE_FINAL flag: this request is done
        tokens.append(int(result.as_numpy("token_id")[0]))
        arrivals.append(arrived - start)
    client.stop_stream()
    # --8<-- [end:stream]
    # The same request to the non-streaming model: all tokens at once, in one response.
    whole = client.infer("tiny_llama", inputs_for(grpcclient)).as_numpy("output_ids")

print(f"{len(tokens)} responses, one token each:", tokens)
print("same tokens as tiny_llama's single response:", tokens == whole[0, prompt.shape[1]:].tolist())
assert tokens == whole[0, prompt.shape[1]:].tolist()
print(f"time to first token {arrivals[0] * 1e3:.0f} ms, last token {arrivals[-1] * 1e3:.0f} ms")
