"""Is the server up, which server is it, and which models does it hold?"""
import os
from importlib import metadata

import tritonclient.http as httpclient

# The test run exports the URL of the server it started; by hand, start one as the page shows.
url = os.environ.get("TRITON_HTTP_URL", "127.0.0.1:8000")  # host:port, no "http://"

with httpclient.InferenceServerClient(url) as client:  # closing it lets the server stop at once
    # Liveness: the process answers. Readiness: every model it was asked to load is loaded.
    print("live:", client.is_server_live(), "ready:", client.is_server_ready())
    server = client.get_server_metadata()
    print(server["name"], server["version"], "| tritonclient", metadata.version("tritonclient"))
    print("extensions include statistics:", "statistics" in server["extensions"])
    # Per model (GET /v2/models/<name>/ready); get_model_repository_index() lists them all.
    for name in ("affine", "uppercase", "tiny_llama", "mlp_plain", "mlp_batched", "no_such_model"):
        print(f"  {name:<13} ready: {client.is_model_ready(name)}")
    assert client.is_server_ready() and not client.is_model_ready("no_such_model")
