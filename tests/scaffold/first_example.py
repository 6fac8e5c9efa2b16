# Markers go on a `# pytest: gpu, slow` line up here, above the section the page shows.
# --8<-- [start:code]
"""To write: one line on what this program shows; it is the first line a reader sees."""
import tempfile
from pathlib import Path

# To write: replace this program with one idea of the page, in 15 to 60 lines: imports at the top,
# seeds set, files only under a temporary folder, and a print or assert of the result at the end.
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "numbers.txt"
    path.write_text("3 1 2\n")
    numbers = sorted(int(word) for word in path.read_text().split())

print("sorted:", numbers)
assert numbers == [1, 2, 3]
# --8<-- [end:code]
