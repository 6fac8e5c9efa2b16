"""Pitfall: numpy's default float64 against a TYPE_FP32 input."""
import os

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
x = np.array([[0.5, 1.0, 1.5, 2.0]])  # float64: numpy's default for Python floats


def infer(client, array):
    # Taking the datatype from the array looks tidy, and sends whatever the array happens to be.
    x_input = httpclient.InferInput("x", list(array.shape), np_to_triton_dtype(array.dtype))
    x_input.set_data_from_numpy(array)
    return client.infer("affine", [x_input]).as_numpy("y")


with httpclient.InferenceServerClient(url) as client:
    # WRONG: an FP64 tensor for a TYPE_FP32 input. Triton does not convert; it rejects the request.
    try:
        infer(client, x)
        raise AssertionError("FP64 was accepted for an FP32 input")
    except InferenceServerException as error:
        print("wrong:", error.message())
        assert "data-type is 'FP64', but model 'affine' expects 'FP32'" in error.message()

    # RIGHT: cast to the datatype config.pbtxt declares (get_model_metadata tells it too).
    expected = client.get_model_metadata("affine")["inputs"][0]["datatype"]
    y = infer(client, x.astype(np.float32))
print("right:", expected, y.dtype, y)
np.testing.assert_allclose(y, 2 * x + 1)
