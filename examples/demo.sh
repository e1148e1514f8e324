#!/usr/bin/env bash
# Loom end to end on the embedded store, in a throw-away folder: no network, < 1 minute.
# Run with `make demo` (which puts .venv/bin on PATH).
set -euo pipefail

if [ -t 1 ]; then B=$'\033[1;36m' D=$'\033[2m' R=$'\033[0m'; else B="" D="" R=""; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$R"; }
run() { printf '%s$ %s%s\n' "$D" "$*" "$R"; "$@"; }

export COLUMNS="${COLUMNS:-150}"  # wide tables when piped
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
say "Three training runs, each linked to the data version it read (embedded store: .loom/loom.db)"
cat > train.py <<'PY'
import sys

import loom

lr, epochs = float(sys.argv[1]), int(sys.argv[2])
rows = loom.data.read("data/raw/a.csv", mode="r").splitlines()[1:]
loom.set_experiment("rag-embedding-model")
with loom.start_run(name=f"lr-{lr}-ep-{epochs}") as run:
    loom.log_params({"learning_rate": lr, "epochs": epochs, "batch_size": 32})
    loom.log_input("data/raw")  # path + content hash + git commit: the data version
    loss = 1.0
    for epoch in range(epochs):
        loss *= 1 - lr * 40
        loom.log_metric("train_loss", loss, step=epoch)
    loom.log_metrics({"val_accuracy": round(1 - loss / 2, 4), "recall_at_10": round(0.8 + lr * 8, 4)})
    loom.set_tags({"status": "candidate", "rows": str(len(rows))})
    with open("training_config.yaml", "w") as f:
        f.write(f"learning_rate: {lr}\nepochs: {epochs}\n")
    loom.log_artifact("training_config.yaml")
    print(f"run {run.info.run_id[:8]}: lr={lr} epochs={epochs} final loss={loss:.4f}")
PY
printf 'train.py\ntraining_config.yaml\n' >> .git/info/exclude
run python train.py 0.001 10
run python train.py 0.01 5
run python train.py 0.005 20

say "Runs with recall@10 > 0.85 and lr 0.01, or 20 epochs, best first (MLflow filter syntax plus OR)"
run loom runs list -e rag-embedding-model \
    --filter "metrics.recall_at_10 > 0.85 and params.learning_rate = '0.01' or params.epochs = '20'" \
    --order-by "metrics.recall_at_10 DESC"

BEST="$(loom runs list -e rag-embedding-model --order-by "metrics.recall_at_10 DESC" -n 1 --json \
    | python -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["run_id"])')"
say "Everything about the best run: params, metrics, the data version it read, code, environment"
run loom runs show "$BEST"
say "Its data input is the hash in data/raw.loom of the commit it ran on"
run grep hash data/raw.loom

say "Runs side by side, differences highlighted"
run loom runs compare $(loom runs list -e rag-embedding-model --json \
    | python -c 'import json,sys; print(" ".join(r["run_id"] for r in json.load(sys.stdin)["runs"]))')

say "Done: the demo ran in $WORK (removed on exit)."
