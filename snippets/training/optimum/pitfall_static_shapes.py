"""torch.onnx.export fixes every shape of the example input unless you declare the dynamic axes."""
import os
import tempfile

import onnxruntime
import torch


class TinyLM(torch.nn.Module):
    """Token + position embeddings and an output head: enough to depend on the sequence length."""

    def __init__(self, vocab=128, width=32, max_len=64):
        super().__init__()
        self.tok, self.pos = torch.nn.Embedding(vocab, width), torch.nn.Embedding(max_len, width)
        self.head = torch.nn.Linear(width, vocab)

    def forward(self, input_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        return self.head(self.tok(input_ids) + self.pos(positions))


torch.manual_seed(0)
model = TinyLM().eval()
example, longer = torch.randint(0, 128, (1, 8)), torch.randint(0, 128, (3, 20))

with tempfile.TemporaryDirectory() as tmp:
    # WRONG: no dynamic_shapes, so the graph is specialised to batch 1 x 8 tokens.
    static = os.path.join(tmp, "static.onnx")
    torch.onnx.export(model, (example,), static, input_names=["input_ids"], verbose=False)
    session = onnxruntime.InferenceSession(static, providers=["CPUExecutionProvider"])
    print("static input shape :", session.get_inputs()[0].shape)
    try:
        session.run(None, {"input_ids": longer.numpy()})
        raise AssertionError("a 3 x 20 input should not fit a 1 x 8 graph")
    except onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument as err:
        print("3 x 20 input ->", " ".join(str(err).split("INVALID_ARGUMENT : ")[1].split()[:6]))
        print(" ".join(str(err).split("indices")[1].split()))

    # RIGHT: name the axes that may change; the exporter keeps them symbolic.
    dynamic = os.path.join(tmp, "dynamic.onnx")
    torch.onnx.export(model, (example,), dynamic, input_names=["input_ids"], verbose=False,
                      dynamic_shapes=({0: "batch", 1: "seq"},))
    session = onnxruntime.InferenceSession(dynamic, providers=["CPUExecutionProvider"])
    print("dynamic input shape:", session.get_inputs()[0].shape)
    (logits,) = session.run(None, {"input_ids": longer.numpy()})
with torch.no_grad():
    assert torch.allclose(torch.from_numpy(logits), model(longer), atol=1e-5)
print("3 x 20 input -> logits", logits.shape, "equal to PyTorch")
