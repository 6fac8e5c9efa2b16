"""The inverse of byte_tokenizer: ids are bytes; bytes that are not valid UTF-8 become U+FFFD."""
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            ids = pb_utils.get_input_tensor_by_name(request, "output_ids").as_numpy()[0]
            text = bytes(ids.astype(np.uint8).tolist()).decode("utf-8", errors="replace")
            out = np.array([text.encode("utf-8")], dtype=np.object_)
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("text", out)]))
        return responses
