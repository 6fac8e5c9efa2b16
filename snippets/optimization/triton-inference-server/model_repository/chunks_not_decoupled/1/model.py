"""Wrong on purpose: one response per chunk, returned from a model that is not decoupled."""
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            n = int(pb_utils.get_input_tensor_by_name(request, "n").as_numpy()[0])
            for i in range(n):  # n responses for one request
                chunk = pb_utils.Tensor("chunk", np.array([i], np.int32))
                responses.append(pb_utils.InferenceResponse([chunk]))
        return responses
