"""Put a GPU run's results where the site and the repository keep them.

    python tests/gpu/place_results.py RESULTS_DIR [NAME]

RESULTS_DIR holds what tests/gpu/run_offline.sh wrote (environment.txt, pytest-report-gpu.jsonl,
measured.tar.gz). Each ``benchmark_x_gpu.out.txt`` in the archive goes beside its script in
``snippets/<section>/<topic>/`` and each ``benchmark_x_gpu.png`` to ``docs/<section>/<topic>/``,
where the pages include them under "Measured here"; the report log and the environment go to
``reports/verified/`` as ``pytest-report-gpu-NAME.jsonl`` and ``environment-gpu-NAME.txt``
(NAME defaults to the GPU's model, e.g. ``h200``). Raises SystemExit naming any measured file
whose script is not found.
"""

from __future__ import annotations

import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def place(results: Path, name: str | None = None) -> list[Path]:
    """Copy the results into the tree; return the paths written (relative to the repository)."""
    environment = (results / "environment.txt").read_text()
    if name is None:  # first line: "NVIDIA H200, 580.159.04, 143771 MiB"
        name = environment.splitlines()[0].split(",")[0].split()[-1].lower()
    written = []
    verified = ROOT / "reports" / "verified"
    verified.mkdir(parents=True, exist_ok=True)
    for source, target in ((results / "pytest-report-gpu.jsonl", verified / f"pytest-report-gpu-{name}.jsonl"),
                           (results / "environment.txt", verified / f"environment-gpu-{name}.txt")):
        shutil.copyfile(source, target)
        written.append(target)
    with tarfile.open(results / "measured.tar.gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            stem = Path(member.name).name.rsplit(".", 2)[0] if member.name.endswith(".out.txt") else Path(member.name).stem
            scripts = list(ROOT.glob(f"snippets/*/*/{stem}.py")) + list(ROOT.glob(f"snippets/*/*/*/{stem}.py"))
            if len(scripts) != 1:
                raise SystemExit(f"{member.name}: expected one script snippets/**/{stem}.py, found {len(scripts)}")
            section, topic = scripts[0].relative_to(ROOT / "snippets").parts[:2]
            if member.name.endswith(".out.txt"):
                target = scripts[0].with_suffix(".out.txt")
            else:
                target = ROOT / "docs" / section / topic / Path(member.name).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
            written.append(target)
    return [p.relative_to(ROOT) for p in written]


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(__doc__)
    for path in place(Path(sys.argv[1]), *sys.argv[2:]):
        print(path)
