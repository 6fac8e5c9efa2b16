"""A byte-level tokenizer: token id = UTF-8 byte (0-255), which fits tiny_llama's 256 tokens.

A real pipeline loads its tokenizer in initialize, e.g. AutoTokenizer.from_pretrained(folder).
"""
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            text = pb_utils.get_input_tensor_by_name(request, "text").as_numpy()[0]  # bytes
            ids = np.frombuffer(text, dtype=np.uint8).astype(np.int64)[None, :]  # [1, length]
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("input_ids", ids)]))
        return responses
