"""The MLP on the GPU its instance is given, all requests of an execution as one matrix product."""
import numpy as np
import torch
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        # kind: KIND_GPU gives each instance one device; the Python backend says which.
        self.device = torch.device("cuda", int(args["model_instance_device_id"]))
        generator = torch.Generator().manual_seed(0)
        self.w1 = (torch.randn(4096, 16384, generator=generator) / 64).to(self.device)
        self.w2 = (torch.randn(16384, 4096, generator=generator) / 128).to(self.device)

    def execute(self, requests):
        # Inputs arrive in CPU memory (the Python backend's default); one copy in, one copy out.
        xs = [pb_utils.get_input_tensor_by_name(r, "x").as_numpy() for r in requests]
        x = torch.from_numpy(np.concatenate(xs)).to(self.device)
        with torch.inference_mode():
            y = (torch.tanh(x @ self.w1) @ self.w2).cpu().numpy()
        parts = np.split(y, np.cumsum([len(a) for a in xs])[:-1])
        return [pb_utils.InferenceResponse([pb_utils.Tensor("y", part)]) for part in parts]
