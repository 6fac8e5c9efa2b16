"""A tiny Llama served by the Python backend: greedy `generate`, on the device Triton assigns."""
import json

import torch
import triton_python_backend_utils as pb_utils
from transformers import LlamaConfig, LlamaForCausalLM


class TritonPythonModel:
    def initialize(self, args):
        # args["model_config"] is the JSON form of config.pbtxt, as the server completed it.
        parameters = json.loads(args["model_config"])["parameters"]
        values = {key: int(value["string_value"]) for key, value in parameters.items()}
        seed = values.pop("seed")
        # An instance of a KIND_GPU group is told which GPU is its own; KIND_CPU runs on the CPU.
        if args["model_instance_kind"] == "GPU":
            self.device = torch.device("cuda", int(args["model_instance_device_id"]))
        else:
            self.device = torch.device("cpu")
        # A real deployment loads a checkpoint kept in the version folder:
        #   LlamaForCausalLM.from_pretrained(Path(__file__).parent / "checkpoint")
        # Here the weights are a function of the seed, so a client can rebuild the same model.
        torch.manual_seed(seed)
        self.model = LlamaForCausalLM(LlamaConfig(**values)).eval().to(self.device)

    def execute(self, requests):
        responses = []
        for request in requests:
            input_ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
            max_new = int(
                pb_utils.get_input_tensor_by_name(request, "max_new_tokens").as_numpy()[0])
            with torch.no_grad():
                output = self.model.generate(torch.tensor(input_ids, device=self.device),
                                             max_new_tokens=max_new, do_sample=False)
            output_ids = pb_utils.Tensor("output_ids", output.cpu().numpy())
            responses.append(pb_utils.InferenceResponse([output_ids]))
        return responses
