"""Measure the pack design of loom.objects: 20,000 files of 1-8 KiB (seeded).

    python benchmarks/objects_packs.py [--s3-endpoint http://127.0.0.1:PORT] [--loose]

Prints seconds for add_files (packed; and loose, one object per file, with
--loose), push/pull to a local directory and, with an endpoint, to S3.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from loom.objects import ObjectDB, hash_files, open_remote, pull, push


def make_files(root: Path, n: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        p = root / f"d{i % 100:02d}" / f"f{i:05d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rng.randbytes(rng.randint(1024, 8192)))
        paths.append(p)
    return paths


def timed(label: str, fn) -> float:
    """Wall and CPU seconds (CPU time is steadier on a shared, loaded machine)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    dt, dc = time.perf_counter() - t, time.process_time() - c
    print(f"{label:<40} {dt:7.3f} s wall {dc:7.3f} s cpu")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--s3-endpoint")
    ap.add_argument("--bucket", default="loom-bench")
    ap.add_argument("--loose", action="store_true", help="also time one loose object per file")
    ap.add_argument("-j", "--jobs", type=int)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loom-objects-bench-"))
    try:
        paths = make_files(work / "src", args.n)
        oids = hash_files(paths)
        items = [(p, o, p.stat().st_size) for p, o in zip(paths, oids, strict=True)]
        print(f"{args.n} files, {sum(i[2] for i in items) / 2**20:.1f} MiB, cpus={os.cpu_count()}")
        odb = ObjectDB(work / "cache")
        timed("add_files (packed)", lambda: odb.add_files(items, jobs=args.jobs))
        timed("add_files again (nothing to do)", lambda: odb.add_files(items, jobs=args.jobs))
        if args.loose:
            loose = ObjectDB(work / "loose")
            timed(
                "add_file x n (loose, fsync each)", lambda: [loose.add_file(*i[:2]) for i in items]
            )
        timed("fsck", lambda: odb.fsck(jobs=args.jobs))
        remotes = [("local dir", open_remote(str(work / "remote")))]
        if args.s3_endpoint:
            import s3fs

            fs = s3fs.S3FileSystem(endpoint_url=args.s3_endpoint, skip_instance_cache=True)
            if not fs.exists(args.bucket):
                fs.mkdir(args.bucket)
            url = f"s3://{args.bucket}/bench-{os.getpid()}"
            remotes.append(("s3", open_remote(url, endpoint_url=args.s3_endpoint)))
        for name, remote in remotes:
            timed(f"push to {name}", lambda r=remote: push(odb, r, oids, jobs=args.jobs))
            timed(f"push to {name} again (no-op)", lambda r=remote: push(odb, r, oids))
            fresh = ObjectDB(work / f"pulled-{name.replace(' ', '-')}")
            timed(f"pull from {name}", lambda r=remote, f=fresh: pull(f, r, oids, jobs=args.jobs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
