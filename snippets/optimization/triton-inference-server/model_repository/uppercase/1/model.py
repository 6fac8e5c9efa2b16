"""BYTES tensors: each element arrives as a Python `bytes` object in an object array."""
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            raw = pb_utils.get_input_tensor_by_name(request, "text").as_numpy()  # dtype object
            texts = [item.decode("utf-8") for item in raw.reshape(-1)]
            upper = np.array([t.upper().encode("utf-8") for t in texts], dtype=np.object_)
            n_chars = np.array([len(t) for t in texts], dtype=np.int32)
            responses.append(pb_utils.InferenceResponse([
                pb_utils.Tensor("upper", upper.reshape(raw.shape)),
                pb_utils.Tensor("n_chars", n_chars.reshape(raw.shape)),
            ]))
        return responses
