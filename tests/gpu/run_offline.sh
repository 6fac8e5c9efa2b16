#!/usr/bin/env bash
# Every `gpu` item that can run on a GPU machine that cannot install anything from a registry.
#
#   tests/gpu/run_offline.sh [WHEELS [OUT [SECONDS]]]
#
# Made for the lent H200 (one GPU, no network, a stock CUDA PyTorch with transformers, peft,
# accelerate, onnxruntime and pytest already installed): from the repository root, it installs the
# wheels brought along in WHEELS (default .whl/, filled by tests/gpu/fetch_wheels.sh) into a
# private folder with --no-index --no-deps, then runs `pytest -m gpu` once, within SECONDS
# (default 420). No LLM_STUDY_ENV is set, so each gpu item runs if its `needs-<name>` are installed
# and skips with the install command if not. The benchmarks run with --measure, so the same run
# also gives their tables and plots. OUT (default reports/gpu, or $OUT where the device tool sets
# it) receives at most 8 flat files:
#
#   log.txt                    everything printed
#   environment.txt            GPU, driver, Python and package versions
#   pytest-report-gpu.jsonl    the report log (outcome, duration and environment of every item)
#   measured.tar.gz            benchmark_*_gpu.out.txt and .png, for snippets/ and docs/
#
# Exit status: pytest's, or tests/gpu/check_reports.py's when pytest passed: with CUDA, 1 if no
# gpu item ran; without CUDA (the CPU path, tested by tests/test_gpu_offline.py), 0 when every gpu
# item was collected and skipped for want of CUDA.
set -uo pipefail
cd "$(dirname "$0")/../.."
wheels=${1:-.whl}
out=${2:-${OUT:-reports/gpu}}
seconds=${3:-420}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1

if compgen -G "$wheels/*.whl" >/dev/null; then
  site=$(mktemp -d /tmp/llm-study-site.XXXX)
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" "$wheels"/*.whl \
    || { echo "installing the wheels of $wheels failed"; exit 2; }
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
unset LLM_STUDY_ENV  # a reader's own environment: needs decide, not nox environments

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi: not found"
  python3 - <<'PY'
import platform, sys
from importlib import metadata
print("Python", platform.python_version(), sys.executable)
try:
    import torch
    print("torch", torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available(),
          *(["device:", torch.cuda.get_device_name(0)] if torch.cuda.is_available() else []))
except ImportError as err:
    print("torch: not importable:", err)
for name in ("transformers", "tokenizers", "datasets", "peft", "accelerate", "bitsandbytes", "flash-attn",
             "deepspeed", "vllm", "gptqmodel", "optimum", "onnxruntime", "onnxruntime-gpu", "triton",
             "pytest", "pytest-markdown-docs", "numpy", "pyarrow", "huggingface-hub", "matplotlib"):
    try:
        print(f"{name} {metadata.version(name)}")
    except metadata.PackageNotFoundError:
        print(f"{name} -")
PY
} | tee "$out/environment.txt"

measured=$(mktemp -d /tmp/llm-study-measured.XXXX)
# Only the plugins this project uses: a preinstalled one built for another pytest could break the run.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
timeout --signal=INT --kill-after=30 "$seconds" \
  python3 -m pytest -p pytest_markdown_docs.plugin -p pytest_reportlog.plugin \
    -m gpu -p no:cacheprovider --durations=0 -rA \
    --report-log="$out/pytest-report-gpu.jsonl" --measure --measure-into "$measured" docs snippets
status=$?
tar -czf "$out/measured.tar.gz" -C "$measured" . 2>/dev/null
cpu=$(python3 -c "import torch; print('' if torch.cuda.is_available() else '--cpu')" 2>/dev/null || echo --cpu)
if [ $status -eq 0 ]; then
  # With CUDA: at least one gpu item passed. Without (--cpu): every gpu item skipped for want of CUDA.
  python3 tests/gpu/check_reports.py $cpu "$out/pytest-report-gpu.jsonl"
  status=$?
else
  python3 tests/gpu/check_reports.py $cpu "$out/pytest-report-gpu.jsonl" || true
fi
echo "run_offline.sh: exit status $status"
exit $status
