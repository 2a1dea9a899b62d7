"""Scale: index 100,000 small generated documents and record the cost of each 10,000.

    python bench/scale.py                     # 100,000 documents of ~50 words
    python bench/scale.py --documents 20000   # a shorter curve

Generated text, for cost only (nothing is asked of it). The real embedder (ONNX int8 by
default), real Chroma on disk and the SQLite catalog, through ``Assistant.index`` as the CLI
runs it. Prints, for each 10,000 documents, the seconds they took, documents/s, the process's
RSS and its peak so far; then re-syncs the unchanged collection, and once more after one file
changed, each in a fresh process as `assistant index` would run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEP = 10_000
_WORDS = (
    "river market council harbour bridge school station library garden museum factory "
    "village tower road valley festival budget report election water energy railway "
    "ministry hospital forest island season contract network storm harvest"
).split()
_VERBS = "opened closed approved delayed announced reviewed expanded repaired visited".split()


def generate(folder: Path, documents: int, seed: int = 7) -> Path:
    """``documents`` files of about 50 words in folders of 1,000 (kept if already there)."""
    rng = random.Random(seed)
    for n in range(documents):
        path = folder / f"{n // 1000:03d}" / f"doc{n:06d}.txt"
        sentences = []
        for _ in range(5):
            a, b, c = rng.sample(_WORDS, 3)
            sentences.append(
                f"The {a} {rng.choice(_VERBS)} the {b} near the {c} on day {rng.randint(1, 365)}."
            )
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"Note {n}: the {rng.choice(_WORDS)}\n\n" + " ".join(sentences))
    return folder


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(corpus: Path, index: Path) -> list[dict]:
    from assistant import Assistant

    bot = Assistant(corpus=corpus, index_dir=index, update_index=False)
    assert bot.embed_model  # loaded before the clock starts
    curve: list[dict] = []
    began = last = time.perf_counter()

    def progress(done: int, total: int, name: str) -> None:
        nonlocal last
        if done and (done % STEP == 0 or done == total):
            now = time.perf_counter()
            curve.append({
                "documents": done,
                "seconds": now - last,
                "docs_per_s": (done - (curve[-1]["documents"] if curve else 0)) / (now - last),
                "elapsed_s": now - began,
                "rss_mb": rss_mb(),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            })  # fmt: skip
            last = now
            print(json.dumps(curve[-1]), file=sys.stderr, flush=True)

    report = bot.index(progress=progress)
    print(report.summary(), file=sys.stderr, flush=True)
    return curve


def resync(corpus: Path, index: Path) -> float:
    """Seconds of `assistant index` in a new process, start-up included."""
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index", "--corpus", str(corpus),
         "--index-dir", str(index)], capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode:
        raise SystemExit(out.stderr)
    print(out.stdout.strip(), file=sys.stderr)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=HERE / "out" / "scale")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    corpus = generate(args.out / "docs", args.documents)
    index = args.out / "index"
    curve = build(corpus, index)
    unchanged = resync(corpus, index)
    changed_file = corpus / "000" / "doc000000.txt"
    changed_file.write_text(changed_file.read_text() + " The bridge reopened on day 9.")
    one_changed = resync(corpus, index)
    print(f"\n{'documents':>10}{'s':>8}{'docs/s':>9}{'RSS MB':>9}{'peak MB':>9}")
    for row in curve:
        print(f"{row['documents']:>10}{row['seconds']:>8.1f}{row['docs_per_s']:>9.1f}"
              f"{row['rss_mb']:>9.0f}{row['peak_rss_mb']:>9.0f}")  # fmt: skip
    print(f"re-sync, unchanged: {unchanged:.2f} s; one file changed: {one_changed:.2f} s "
          "(new process, start-up included)")  # fmt: skip
    (args.out / "curve.json").write_text(
        json.dumps(
            {"curve": curve, "resync_unchanged_s": unchanged, "resync_one_changed_s": one_changed},
            indent=2,
        )  # fmt: skip
    )


if __name__ == "__main__":
    main()
