"""model_warmup in config.pbtxt: the server runs synthetic requests before the model is ready."""
import os

import numpy as np
import tritonclient.http as httpclient

http_url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
with httpclient.InferenceServerClient(http_url) as client:
    warmup = client.get_model_config("warmup_counter")["model_warmup"][0]
    print(f"model_warmup: {warmup['name']!r}, count {warmup['count']}")
    x = httpclient.InferInput("x", [1], "FP32")
    x.set_data_from_numpy(np.ones(1, dtype=np.float32))
    seen = [int(client.infer("warmup_counter", [x]).as_numpy("executions_before")[0])
            for _ in range(2)]
print("executions before the first and the second client request:", seen)
assert seen[0] >= 3 and seen[1] == seen[0] + 1
