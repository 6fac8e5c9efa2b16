"""Pitfall: with max_batch_size > 0, the batch dimension is implicit in config.pbtxt's dims."""
import os

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
x = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)  # "dims: [ 4 ]" in affine's config.pbtxt


def infer(client, array):
    x_input = httpclient.InferInput("x", list(array.shape), "FP32")
    x_input.set_data_from_numpy(array)
    return client.infer("affine", [x_input]).as_numpy("y")


with httpclient.InferenceServerClient(url) as client:
    # WRONG: the shape of dims alone. The server expects [batch] + dims = [-1, 4].
    try:
        infer(client, x)
        raise AssertionError("a request without its batch dimension was accepted")
    except InferenceServerException as error:
        print("wrong:", error.message().split(". NOTE")[0])
        assert "Expected [-1,4], got [4]" in error.message()
    # WRONG too: more rows than max_batch_size (8) in one request.
    try:
        infer(client, np.tile(x, (9, 1)))
        raise AssertionError("a batch of 9 was accepted")
    except InferenceServerException as error:
        print("wrong:", error.message())
        assert "batch-size must be <= 8" in error.message()

    # RIGHT: add the batch dimension, here a batch of one: shape [1, 4].
    y = infer(client, x[None, :])
print("right:", y.shape, y)
np.testing.assert_array_equal(y, 2 * x[None, :] + 1)
