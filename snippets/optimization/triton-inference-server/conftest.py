"""One Triton Inference Server for every snippet of this folder, started by the test run.

The snippets are clients (tritonclient, in the main environment); the server runs from the
environment of ``$TRITON_SERVER_VENV`` (``nox -s triton`` builds it and sets the variable). The
snippets find it through ``TRITON_HTTP_URL``, ``TRITON_GRPC_URL`` and ``TRITON_METRICS_URL``.
On a machine with CUDA, the GPU repository (models with ``kind: KIND_GPU``) is served as well.
"""

import os

import pytest

from _triton_server import GPU_MODEL_REPOSITORY, MODEL_REPOSITORY, triton_server

# Folders the server loads code from: model.py files are not snippets.
collect_ignore = ["model_repository", "model_repository_gpu"]


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.fixture(scope="session", autouse=True)
def triton_endpoints():
    repositories = [MODEL_REPOSITORY] + ([GPU_MODEL_REPOSITORY] if _cuda_available() else [])
    with triton_server(repositories) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRITON_HTTP_URL", server.http_url)
        mp.setenv("TRITON_GRPC_URL", server.grpc_url)
        mp.setenv("TRITON_METRICS_URL", server.metrics_url)
        yield server
