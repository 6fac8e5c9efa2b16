"""Pitfall: a list of str becomes a fixed-width unicode array, which is not a BYTES tensor."""
import os

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
texts = [["triton"], ["héllo"]]

# WRONG: np.array picks dtype '<U6' (unicode, 6 characters wide);
# tritonclient maps it to no datatype.
wrong = np.array(texts)
print("wrong dtype:", wrong.dtype, "->", np_to_triton_dtype(wrong.dtype))
try:
    httpclient.InferInput("text", list(wrong.shape), "BYTES").set_data_from_numpy(wrong)
    raise AssertionError("a unicode array was accepted")
except InferenceServerException as error:
    print("wrong:", error.message())
    assert "unexpected datatype None" in error.message()

# RIGHT: an object array (of str or bytes) is a BYTES tensor, each element of its own length.
right = np.array(texts, dtype=np.object_)
print("right dtype:", right.dtype, "->", np_to_triton_dtype(right.dtype))
text_input = httpclient.InferInput("text", list(right.shape), "BYTES")
text_input.set_data_from_numpy(right)
with httpclient.InferenceServerClient(url) as client:
    upper = client.infer("uppercase", [text_input]).as_numpy("upper")
print("right:", [u.decode() for u in upper.ravel()])
assert [u.decode() for u in upper.ravel()] == ["TRITON", "HÉLLO"]
