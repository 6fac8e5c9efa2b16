"""The model repository this page serves: one folder per model, one subfolder per version."""
import difflib
from pathlib import Path

repository = Path(__file__).parent / "model_repository"

for model in sorted(p for p in repository.iterdir() if p.is_dir()):
    files = sorted(str(f.relative_to(model)) for f in model.rglob("*")
                   if f.is_file() and "__pycache__" not in f.parts)
    print(f"{model.name}/  " + "  ".join(files))

# mlp_plain and mlp_batched share their code; the configs differ by the dynamic batcher alone.
plain, batched = repository / "mlp_plain", repository / "mlp_batched"
assert (plain / "1" / "model.py").read_bytes() == (batched / "1" / "model.py").read_bytes()


def settings(config):  # config.pbtxt without its comment lines
    return [line for line in config.read_text().splitlines() if not line.startswith("#")]


diff = difflib.unified_diff(settings(plain / "config.pbtxt"), settings(batched / "config.pbtxt"),
                            lineterm="", n=0)
print("\n".join(line for line in diff if not line.startswith(("---", "+++", "@@"))))
