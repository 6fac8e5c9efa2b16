"""The Prometheus metrics endpoint: requests, inferences (rows) and executions per model."""
import os
import re
import time
import urllib.request

import numpy as np
import tritonclient.http as httpclient

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
metrics_url = os.environ.get("TRITON_METRICS_URL", "127.0.0.1:8002")
names = ("nv_inference_request_success", "nv_inference_count", "nv_inference_exec_count")


def affine_counters():
    # Plain text, one sample per line: name{labels} value. A Prometheus server scrapes this page.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    with opener.open(f"http://{metrics_url}/metrics") as response:
        text = response.read().decode()
    found = re.findall(r'^(\w+)\{model="affine",version="1"\} (\d+)$', text, flags=re.M)
    return {name: int(value) for name, value in found if name in names}


before = affine_counters()
with httpclient.InferenceServerClient(http_url) as client:
    for rows in (3, 1):  # two requests: a batch of 3 rows, then a single row
        x_input = httpclient.InferInput("x", [rows, 4], "FP32")
        x_input.set_data_from_numpy(np.ones((rows, 4), dtype=np.float32))
        client.infer("affine", [x_input])
after = affine_counters()
for _ in range(100):  # the server may count a request only after its response has left: wait
    if after["nv_inference_request_success"] - before["nv_inference_request_success"] == 2:
        break
    time.sleep(0.05)
    after = affine_counters()

for name in names:
    print(f"{name:<30} +{after[name] - before[name]}")
assert [after[n] - before[n] for n in names] == [2, 4, 2]  # requests, rows, executions
