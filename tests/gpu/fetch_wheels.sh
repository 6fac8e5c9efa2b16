#!/usr/bin/env bash
# Download the wheels of tests/gpu/wheels.txt, at constraints/main.txt's versions, for a Linux
# x86_64 machine with CPython 3.12 (the lent GPU machine's Python), into .whl/ (or $1).
#
#   tests/gpu/fetch_wheels.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${1:-.whl}
mkdir -p "$dest"
platforms=()
for tag in manylinux_2_17 manylinux2014 manylinux_2_24 manylinux_2_27 manylinux_2_28 manylinux_2_34 manylinux_2_35; do
  platforms+=(--platform "${tag}_x86_64")
done
grep -v '^#' tests/gpu/wheels.txt | while read -r name; do
  [ -n "$name" ] || continue
  pin=$(grep -i "^${name}==" constraints/main.txt) || { echo "$name is not in constraints/main.txt" >&2; exit 1; }
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d "$dest" "$pin"
done
du -sh "$dest"
