"""Dynamic batching, seen in the server's statistics: fewer executions than inferences."""
import functools
import os
import queue
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
grpc_url = os.environ.get("TRITON_GRPC_URL", "127.0.0.1:8001")
rng = np.random.default_rng(0)
rows = [rng.standard_normal((1, 1024), dtype=np.float32) for _ in range(64)]  # 64 requests of 1 row


def send_all(model, in_flight=16):
    """Send each row as its own request, up to `in_flight` at a time; return outputs in order."""
    done, slots, outputs = queue.Queue(), threading.Semaphore(in_flight), [None] * len(rows)

    def on_response(i, result, error):  # runs on a gRPC thread
        slots.release()
        done.put((i, error or result.as_numpy("y")))

    with grpcclient.InferenceServerClient(grpc_url) as client:
        for i, x in enumerate(rows):
            x_input = grpcclient.InferInput("x", list(x.shape), "FP32")
            x_input.set_data_from_numpy(x)
            slots.acquire()
            client.async_infer(model, [x_input], callback=functools.partial(on_response, i))
        for _ in rows:
            i, output = done.get(timeout=60)
            assert isinstance(output, np.ndarray), output  # else a server error
            outputs[i] = output
    return np.concatenate(outputs)


def counters(model):
    with httpclient.InferenceServerClient(http_url) as client:  # totals since the server started
        stats = client.get_inference_statistics(model)["model_stats"][0]
    sizes = {b["batch_size"]: b["compute_infer"]["count"] for b in stats["batch_stats"]}
    return stats["inference_count"], stats["execution_count"], sizes


outputs = {}
for model in ("mlp_plain", "mlp_batched"):
    inferences0, executions0, sizes0 = counters(model)
    outputs[model] = send_all(model)
    # The server may count a request only after its response has left: wait until all 64 are in.
    for _ in range(100):
        inferences1, executions1, sizes1 = counters(model)
        if inferences1 - inferences0 == len(rows):
            break
        time.sleep(0.05)
    inferences, executions = inferences1 - inferences0, executions1 - executions0
    sizes = {size: n - sizes0.get(size, 0) for size, n in sorted(sizes1.items())
             if n > sizes0.get(size, 0)}
    if model == "mlp_plain":
        print(f"{model}: {inferences} inferences in {executions} executions; "
              f"batch size: count {sizes}")
    else:  # how the batcher groups the rows changes from run to run; this much always holds
        print(f"{model}: {inferences} inferences in fewer executions: {executions < inferences}; "
              f"largest batch above 1: {max(sizes) > 1}")
    assert inferences == len(rows)
    if model == "mlp_plain":
        assert executions == len(rows)  # no batcher: one execution per request
    else:
        assert executions < len(rows)  # waiting requests ran together

# Batching changes how rows are grouped, not what each row gets (up to float rounding).
np.testing.assert_allclose(outputs["mlp_batched"], outputs["mlp_plain"], rtol=1e-4, atol=1e-5)
print("same outputs:", True)
