"""What the server says about a model: its tensors (metadata) and its full configuration."""
import os

import tritonclient.http as httpclient

url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")

with httpclient.InferenceServerClient(url) as client:
    # Metadata: names, datatypes and FULL shapes; -1 marks a free dimension, here the batch one
    # that max_batch_size > 0 adds in front of the dims written in config.pbtxt.
    metadata = client.get_model_metadata("affine")
    for tensor in metadata["inputs"] + metadata["outputs"]:
        print(f"{tensor['name']}: {tensor['datatype']} {tensor['shape']}")

    # Config: config.pbtxt as the server completed it (defaults filled in), as a dict.
    config = client.get_model_config("affine")
    print("backend:", config["backend"], "| max_batch_size:", config["max_batch_size"])
    print("instances:", [(g["kind"], g["count"]) for g in config["instance_group"]])
    print("dynamic batching:", "dynamic_batching" in config)
    batching = client.get_model_config("mlp_batched")["dynamic_batching"]
    print("mlp_batched queue delay (us):", batching["max_queue_delay_microseconds"])
