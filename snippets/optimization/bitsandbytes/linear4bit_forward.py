"""A Linear4bit layer: NF4 weights packed two per byte,
dequantized to compute_dtype for each matmul."""
import bitsandbytes as bnb
import torch

torch.manual_seed(0)
reference = torch.nn.Linear(256, 128)
torch.nn.init.normal_(reference.weight, std=0.02)
x = torch.randn(16, 256)
with torch.no_grad():
    want = reference(x)

for compute_dtype in (torch.float32, torch.bfloat16):
    layer = bnb.nn.Linear4bit(256, 128, compute_dtype=compute_dtype, quant_type="nf4",
                              compress_statistics=True)  # compress_statistics = double quantization
    layer.load_state_dict(reference.state_dict())
    before = (layer.weight.dtype, tuple(layer.weight.shape))
    layer = layer.to("cpu")  # quantization happens here, on the move to a device
    state = layer.weight.quant_state
    with torch.no_grad():
        got = layer(x)  # input is cast to compute_dtype, output back to the input's dtype
    error = ((got - want).norm() / want.norm()).item()
    print(f"compute {str(compute_dtype):14}: weight {before} -> {layer.weight.dtype} "
          f"{tuple(layer.weight.shape)}, {state.quant_type}, nested={state.nested}, "
          f"output {got.dtype}, relative error {error:.2%}")
    assert layer.weight.numel() == 256 * 128 // 2
    assert got.dtype == torch.float32 and error < 0.15
