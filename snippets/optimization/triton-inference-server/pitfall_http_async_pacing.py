"""Pitfall: tritonclient.http's async_infer paces itself (10 ms a call): no load, no batches."""
import os
import queue
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
rows = np.random.default_rng(0).standard_normal((32, 1, 1024), dtype=np.float32)


def executions(client):
    return client.get_inference_statistics("mlp_batched")["model_stats"][0]["execution_count"]


with httpclient.InferenceServerClient(http_url, concurrency=32) as client:
    # WRONG: 32 "concurrent" HTTP requests. Each async_infer call yields to gevent with a
    # gevent.sleep(0.01) (tritonclient 2.73), so they leave at most one every 10 ms.
    start = time.perf_counter()
    pending = []
    for x in rows:
        x_input = httpclient.InferInput("x", [1, 1024], "FP32")
        x_input.set_data_from_numpy(x)
        pending.append(client.async_infer("mlp_batched", [x_input]))
    issued_s = time.perf_counter() - start
    for request in pending:
        request.get_result()
    print(f"http async_infer: 32 requests took at least 32 x 10 ms to issue: "
          f"{issued_s >= 32 * 0.01}")
    assert issued_s >= 32 * 0.01

    # RIGHT: gRPC's async_infer returns at once; the requests wait at the server together.
    before = executions(client)
    done = queue.Queue()
    with grpcclient.InferenceServerClient(grpc_url) as grpc_client:
        start = time.perf_counter()
        for x in rows:
            x_input = grpcclient.InferInput("x", [1, 1024], "FP32")
            x_input.set_data_from_numpy(x)
            grpc_client.async_infer("mlp_batched", [x_input],
                                    callback=lambda result, error: done.put(error))
        grpc_issued_s = time.perf_counter() - start
        errors = [done.get(timeout=60) for _ in rows]
    assert not any(errors), errors
    batched = executions(client) - before
    # The times and the number of executions vary with the machine; these comparisons do not.
    print(f"grpc async_infer: issued in less than half that time: {grpc_issued_s < issued_s / 2}, "
          f"run in fewer than 32 executions: {batched < 32}")
    assert grpc_issued_s < issued_s / 2 and batched < 32
