"""One inference over HTTP: numpy in, numpy out."""
import os

import numpy as np
import tritonclient.http as httpclient

url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
x = np.arange(12, dtype=np.float32).reshape(3, 4)  # a batch of 3 rows; the model's dims are [4]

with httpclient.InferenceServerClient(url) as client:
    # Name, shape and datatype must match config.pbtxt (TYPE_FP32 is "FP32" on the wire).
    inputs = [httpclient.InferInput("x", list(x.shape), "FP32")]
    inputs[0].set_data_from_numpy(x)  # binary in the HTTP body, not JSON numbers
    outputs = [httpclient.InferRequestedOutput("y")]
    result = client.infer("affine", inputs, outputs=outputs)

y = result.as_numpy("y")
print(y.dtype, y.shape)
print(y)
np.testing.assert_array_equal(y, 2 * x + 1)
print("response:", {k: result.get_response()[k] for k in ("model_name", "model_version")})
