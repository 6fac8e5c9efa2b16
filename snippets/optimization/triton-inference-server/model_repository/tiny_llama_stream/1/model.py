"""tiny_llama's greedy decoding, streamed: each new token is sent as soon as it is chosen."""
import json

import numpy as np
import torch
import triton_python_backend_utils as pb_utils
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM


class TritonPythonModel:
    def initialize(self, args):
        parameters = json.loads(args["model_config"])["parameters"]
        values = {key: int(value["string_value"]) for key, value in parameters.items()}
        torch.manual_seed(values.pop("seed"))  # the same weights as tiny_llama
        self.model = LlamaForCausalLM(LlamaConfig(**values)).eval()

    def execute(self, requests):
        # Decoupled: answer through each request's response sender, and return None.
        for request in requests:
            sender = request.get_response_sender()
            ids = torch.tensor(pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy())
            max_new = int(
                pb_utils.get_input_tensor_by_name(request, "max_new_tokens").as_numpy()[0])
            cache = DynamicCache(config=self.model.config)
            with torch.no_grad():
                for _ in range(max_new):  # greedy decoding with a KV cache, one token a step
                    logits = self.model(ids, past_key_values=cache, use_cache=True).logits
                    ids = logits[:, -1:].argmax(-1)  # the next input is only the new token
                    token = pb_utils.Tensor("token_id", ids[0].numpy().astype(np.int64))
                    sender.send(pb_utils.InferenceResponse([token]))
            # The last message: no tensors, just the flag that ends this request's stream.
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
