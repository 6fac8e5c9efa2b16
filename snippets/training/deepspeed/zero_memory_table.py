"""Per-GPU memory for the model states of a 7B model on 8 GPUs: the ZeRO paper vs DeepSpeed."""
from deepspeed.runtime.zero.stage3 import (estimate_zero3_model_states_mem_needs,
                                           estimate_zero3_model_states_mem_needs_all_cold)
from deepspeed.runtime.zero.stage_1_and_2 import (estimate_zero2_model_states_mem_needs,
                                                  estimate_zero2_model_states_mem_needs_all_cold)

PSI, N, K = 7e9, 8, 12  # parameters, GPUs, optimizer bytes per parameter (mixed-precision Adam)
LARGEST_LAYER = 32000 * 4096  # Llama-2-7B's embedding (vocab x hidden), its biggest single module

# ZeRO paper (arXiv:1910.02054), bytes per GPU: 2 (fp16 params) + 2 (fp16 grads) + K (optimizer)
paper = {0: (2 + 2 + K) * PSI,
         1: 2 * PSI + 2 * PSI + K * PSI / N,  # P_os: optimizer states sharded
         2: 2 * PSI + (2 + K) * PSI / N,  # P_os+g: gradients sharded as well
         3: (2 + 2 + K) * PSI / N}  # P_os+g+p: parameters sharded as well
# DeepSpeed's estimators (GPU side, no offload); they exist for stages 2 and 3 only.
_, zero2 = estimate_zero2_model_states_mem_needs(PSI, num_gpus_per_node=N, cpu_offload=False)
_, zero3, _ = estimate_zero3_model_states_mem_needs(PSI, LARGEST_LAYER, num_gpus_per_node=N,
                                                    cpu_offload=False, cpu_offload_params=False)
estimator = {2: zero2, 3: zero3}

GB = 1e9  # the paper's unit; DeepSpeed's own printout below uses GiB (2**30 bytes)
print("stage | paper formula | DeepSpeed estimator")
for stage in range(4):
    estimate = f"{estimator[stage] / GB:6.2f} GB" if stage in estimator else "     -"
    print(f"  {stage}   | {paper[stage] / GB:7.2f} GB    | {estimate}")
assert paper[0] / paper[3] == N  # stage 3 divides everything by N
assert zero2 - paper[2] == 4 * PSI / N  # the estimator also counts an fp32 copy of the grads

# The printing helpers show the same estimate next to the offload options (values in GiB).
estimate_zero2_model_states_mem_needs_all_cold(total_params=PSI, num_gpus_per_node=N)
estimate_zero3_model_states_mem_needs_all_cold(total_params=PSI, largest_layer_params=LARGEST_LAYER,
                                               num_gpus_per_node=N)
