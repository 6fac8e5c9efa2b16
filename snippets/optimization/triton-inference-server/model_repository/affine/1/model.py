"""The smallest Python-backend model: y = 2 * x + 1, one response per request."""
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "x").as_numpy()  # shape [batch, 4]
            responses.append(pb_utils.InferenceResponse([pb_utils.Tensor("y", 2 * x + 1)]))
        return responses
