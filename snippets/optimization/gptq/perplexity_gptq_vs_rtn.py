# pytest: slow
# --8<-- [start:code]
import copy
import math
import os
import tempfile

os.environ.setdefault("GPTQMODEL_DISABLE_PACK_EXT", "1")  # skip a 2-minute C++ build (see above)

import torch
from transformers import AutoModelForCausalLM, GPTQConfig

from _tiny_llama import HELDOUT_DOCS, TRAIN_DOCS, make_model, make_tokenizer
from gptq_one_layer import rtn_quantize

tokenizer, model = make_tokenizer(), make_model()
train_ids = torch.tensor(tokenizer("\n".join(TRAIN_DOCS)).input_ids)
# A few steps of training, so that the weights carry something a quantizer can break. Adam divides
# each step by sqrt(v) + eps: with the default eps=1e-8, a gradient that is almost zero still gets a
# full step, whose sign the last float bits decide, and those differ between CPUs. eps=1e-4 keeps
# such steps small, so the trained model is the same on every machine.
optimizer, STEPS = torch.optim.AdamW(model.parameters(), lr=1e-2, eps=1e-4), 60
for step in range(STEPS):
    starts = torch.randint(0, len(train_ids) - 65, (16,)).tolist()
    batch = torch.stack([train_ids[s:s + 64] for s in starts])
    model(input_ids=batch, labels=batch).loss.backward()
    optimizer.step()
    optimizer.zero_grad()
model.eval()

rtn = copy.deepcopy(model)  # round-to-nearest: same bits, group size and grid, no calibration
for layer in rtn.model.layers:
    for linear in [m for m in layer.modules() if isinstance(m, torch.nn.Linear)]:
        linear.weight.data = rtn_quantize(linear.weight.data, bits=4, group_size=32)

with tempfile.TemporaryDirectory() as folder:
    model.save_pretrained(folder)
    # 32 x 128 tokens
    calibration = [tokenizer.decode(train_ids[s:s + 128]) for s in range(0, 32 * 128, 128)]
    gptq = AutoModelForCausalLM.from_pretrained(folder, quantization_config=GPTQConfig(
        bits=4, group_size=32, dataset=calibration, tokenizer=tokenizer))

heldout = torch.tensor(tokenizer("\n".join(HELDOUT_DOCS)).input_ids)
# 32 sequences of 128 tokens never trained or calibrated on
heldout = heldout[: 32 * 128].view(32, 128)
with torch.no_grad():
    ref = model(input_ids=heldout).logits.log_softmax(-1)
    results = {}
    for name, m in [("fp32", model), ("GPTQ 4-bit", gptq), ("RTN 4-bit", rtn)]:
        out = m(input_ids=heldout, labels=heldout)
        logp = out.logits.float().log_softmax(-1)
        kl = (ref.exp() * (ref - logp)).sum(-1).mean().item()  # KL(fp32 || quantized) per token
        results[name] = (math.exp(out.loss.item()), kl)
# A weight almost midway between two grid points rounds either way, depending on the last float
# bits of the CPU's kernels: the 4-bit models vary a little between machines, so print comparisons.
ppl = {name: p for name, (p, _) in results.items()}
kl_ratio = results["GPTQ 4-bit"][1] / results["RTN 4-bit"][1]
print(f"after {STEPS} training steps, held-out text")
print(f"perplexity: fp32 {ppl['fp32']:.1f}, GPTQ and RTN within 0.5 of it: "
      f"{all(abs(ppl[name] - ppl['fp32']) < 0.5 for name in ('GPTQ 4-bit', 'RTN 4-bit'))}")
print(f"KL to fp32: GPTQ's less than a third of RTN's: {kl_ratio < 1 / 3}")
assert results["GPTQ 4-bit"][1] < results["RTN 4-bit"][1]
# --8<-- [end:code]
