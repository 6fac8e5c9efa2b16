"""Strings travel as BYTES tensors: numpy object arrays of str or bytes."""
import os

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import np_to_triton_dtype

url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")
# dtype=np.object_ is what makes this a BYTES tensor; shape [batch, 1] as the model's dims are [1].
texts = np.array([["triton"], ["héllo wörld"]], dtype=np.object_)
print("datatype:", np_to_triton_dtype(texts.dtype))

with httpclient.InferenceServerClient(url) as client:
    text_input = httpclient.InferInput("text", list(texts.shape), "BYTES")
    text_input.set_data_from_numpy(texts)  # each str is sent as UTF-8 bytes, length-prefixed
    result = client.infer("uppercase", [text_input])

upper, n_chars = result.as_numpy("upper"), result.as_numpy("n_chars")
print(upper.dtype, upper.ravel().tolist())  # BYTES come back as bytes objects: decode them
print([u.decode("utf-8") for u in upper.ravel()], n_chars.ravel().tolist())
assert [u.decode() for u in upper.ravel()] == ["TRITON", "HÉLLO WÖRLD"]
assert n_chars.ravel().tolist() == [6, 11]  # characters, not UTF-8 bytes (13 for the second)
