"""Pitfall: several responses per request from a model that is not decoupled
(triton-inference-server/server#7458)."""
import os
import queue

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
n = grpcclient.InferInput("n", [1], "INT32")
n.set_data_from_numpy(np.array([3], dtype=np.int32))

with grpcclient.InferenceServerClient(grpc_url) as client:
    # WRONG: chunks_not_decoupled's execute() returns 3 responses for its 1 request.
    try:
        client.infer("chunks_not_decoupled", [n])
        raise AssertionError("3 responses to 1 request were accepted")
    except InferenceServerException as error:
        message = error.message().strip()
        print("wrong:", message[message.index("Number of"):])
        assert "InferenceResponse(s) size is:3" in message

    # RIGHT: chunks_decoupled sends the same chunks through its response sender, and is declared
    # decoupled in config.pbtxt; the client reads them from a gRPC stream.
    policy = client.get_model_config("chunks_decoupled").config.model_transaction_policy
    responses = queue.Queue()
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    client.async_stream_infer("chunks_decoupled", [n])
    results = [responses.get(timeout=30) for _ in range(3)]
    client.stop_stream()
assert all(error is None for _, error in results)
print("right: decoupled =", policy.decoupled, "| chunks:",
      [int(result.as_numpy("chunk")[0]) for result, _ in results])
