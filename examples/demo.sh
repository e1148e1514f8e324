#!/usr/bin/env bash
# Loom end to end on the embedded store, in a throw-away folder: no network, < 1 minute.
# Run with `make demo` (which puts .venv/bin on PATH).
set -euo pipefail

say() { printf '\n\033[1;36m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/loom-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export GIT_AUTHOR_NAME="Loom Demo" GIT_AUTHOR_EMAIL="demo@example.com"
export GIT_COMMITTER_NAME="Loom Demo" GIT_COMMITTER_EMAIL="demo@example.com"

# ---------------------------------------------------------------- data versioning
say "A git repository and a Loom workspace in $WORK/project"
mkdir project && cd project
run git init -q -b main
run loom init
git add .loom && git commit -qm "loom init"

say "A small dataset: 200 CSV files"
python - <<'PY'
import os, random
random.seed(7)
os.makedirs("data/raw", exist_ok=True)
for i in range(200):
    with open(f"data/raw/part-{i:03}.csv", "w") as f:
        f.write("id,value\n" + "".join(f"{j},{random.random():.6f}\n" for j in range(50)))
with open("data/raw/a.csv", "w") as f:
    f.write("id,label\n1,cat\n2,dog\n")
PY
run loom add data/raw
run cat data/raw.loom
run git add data/raw.loom data/.gitignore
run git commit -qm "raw v1"

say "A local remote, and push (sends only what the remote lacks)"
run loom remote add -d storage "$WORK/remote"
run loom push
run loom push

say "Edit the data; status shows what changed against the pointer"
printf '3,bird\n' >> data/raw/a.csv
rm data/raw/part-000.csv
printf 'id,value\n' > data/raw/new.csv
run loom status

say "Record v2 (unchanged files are not stored again) and push it"
run loom add data/raw
run git commit -qam "raw v2"
run loom push

say "Back to v1: git checkout + loom checkout"
run git checkout -q HEAD~1
run loom checkout
run cat data/raw/a.csv
run git checkout -q main
run loom checkout
run cat data/raw/a.csv

say "As in a fresh clone: no cache, no data; pull brings both back"
run rm -rf .loom/cache data/raw
run loom pull
run loom status

say "Garbage collection (dry run) and a full check of the cache"
run loom gc --workspace --dry-run
run loom gc --all-commits --dry-run
run loom fsck

say "Read v1 from Python without checking it out"
run python -c "import loom; print(loom.data.read('data/raw/a.csv', rev='HEAD~1', mode='r'))"
run python -c "import loom; print(loom.data.info('data/raw'))"

# ---------------------------------------------------------------- experiment tracking
# (The tracking part of the story goes here.)

say "Done: the demo ran in $WORK (removed on exit)."
