"""The model repository this page serves: one folder per model, one subfolder per version."""
import difflib
from pathlib import Path

repository = Path(__file__).parent / "model_repository"

for model in sorted(p for p in repository.iterdir() if p.is_dir()):
    files = sorted(str(f.relative_to(model)) for f in model.rglob("*")
                   if f.is_file() and "__pycache__" not in f.parts)
    print(f"{model.name}/  " + "  ".join(files))

# mlp_plain and mlp_batched share their code: mlp_batched's model.py is a symbolic link to
# mlp_plain's (Triton follows it). The configs differ by the dynamic batcher alone.
plain, batched = repository / "mlp_plain", repository / "mlp_batched"
assert (batched / "1" / "model.py").is_symlink()
assert (batched / "1" / "model.py").resolve() == (plain / "1" / "model.py").resolve()


def settings(config):  # config.pbtxt without its comment lines
    return [line for line in config.read_text().splitlines() if not line.startswith("#")]


diff = difflib.unified_diff(settings(plain / "config.pbtxt"), settings(batched / "config.pbtxt"),
                            lineterm="", n=0)
print("\n".join(line for line in diff if not line.startswith(("---", "+++", "@@"))))
