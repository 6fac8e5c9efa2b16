"""Export a tiny Llama to ONNX with Optimum and check ONNX Runtime computes the same logits."""
import tempfile

import torch
from optimum.onnxruntime import ORTModelForCausalLM
from transformers import LlamaConfig, LlamaForCausalLM

torch.manual_seed(0)
config = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2)
model = LlamaForCausalLM(config).eval()

with tempfile.TemporaryDirectory() as pt_dir:
    model.save_pretrained(pt_dir)  # a normal transformers checkpoint, as if from the Hub
    # export=True traces the PyTorch model to an ONNX graph (in a temp folder Optimum owns)
    # and opens it in an onnxruntime.InferenceSession on the CPU provider.
    ort_model = ORTModelForCausalLM.from_pretrained(pt_dir, export=True)

session = ort_model.session  # a plain onnxruntime.InferenceSession
print("providers:", session.get_providers())
for arg in session.get_inputs():
    print("input ", arg.name, arg.shape)
print("output", [o.name for o in session.get_outputs()])

input_ids = torch.randint(0, 128, (2, 8))
attention_mask = torch.ones_like(input_ids)
with torch.no_grad():
    expected = model(input_ids=input_ids, attention_mask=attention_mask).logits
got = ort_model(input_ids=input_ids, attention_mask=attention_mask).logits  # a torch tensor
diff = (got - expected).abs().max().item()
# Same graph, same float32 weights: only the order of floating-point operations differs. The
# difference (around 1e-7) depends on the CPU's kernels, so print the tolerance it must meet.
print(f"logits {tuple(got.shape)}, max |ORT - PyTorch| < 1e-5: {diff < 1e-5}")
assert torch.allclose(got, expected, atol=1e-5), diff
