from transformers import GPTQConfig

# Wrong: the transformers 4.x way to pick (or avoid) the ExLlama kernel. GPTQConfig takes
# **kwargs, so the old flags are accepted without a word, and then dropped.
old = GPTQConfig(bits=4, use_exllama=False, exllama_config={"version": 2})
print("use_exllama kept:", hasattr(old, "use_exllama"), "| exllama_config kept:",
      hasattr(old, "exllama_config"))
print("backend:", old.backend, "| saved keys with 'exllama':",
      [k for k in old.to_dict() if "exllama" in k])
assert not hasattr(old, "use_exllama") and "use_exllama" not in old.to_dict()
assert old.backend == "auto"  # gptqmodel will choose the kernel itself, whatever you meant

# Right: name the gptqmodel kernel with `backend`. It is one of the two settings that
# from_pretrained still honours when it loads an already quantized checkpoint.
new = GPTQConfig(bits=4, backend="gptq_torch")
print("backend:", new.backend, "| loading attributes:", new.get_loading_attributes())
assert new.get_loading_attributes() == {"backend": "gptq_torch", "max_input_length": None}
