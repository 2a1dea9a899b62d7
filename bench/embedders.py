"""The embedder's backends side by side: index build speed and retrieval quality.

    python bench/embedders.py            # both golden sets, torch fp32 against ONNX int8
    python bench/embedders.py --all-pages  # pydocs: index all 530 pages (slower), same questions

For each backend, in one run: the index build of each golden set's collection (chunks/s, word
pieces/s), and retrieval on its questions (hit@k and MRR at document level, as ``assistant
eval`` counts them), with the same chunks and the same hybrid retriever.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import _link_pages, window_share  # noqa: E402  (bench/ is not a package)

BACKENDS = ("torch", "onnx-int8")


def worker(backend: str, set_name: str, all_pages: bool) -> dict:
    from assistant import Assistant
    from assistant.config import Settings
    from assistant.evaluation import eval_sets, load_golden, prepare_corpus

    eval_set = eval_sets()[set_name]
    with tempfile.TemporaryDirectory() as tmp:
        if all_pages and eval_set.corpus is not None:
            corpus = Path(tmp) / "pages"
            _link_pages(eval_set.corpus, corpus)
        else:
            corpus = prepare_corpus(eval_set, Path(tmp) / "pages")
        settings = Settings(embed_backend=backend, index_dir=Path(tmp) / "index")
        if corpus is not None:
            settings.corpus_dir = corpus
        bot = Assistant(settings=settings, update_index=False)
        assert bot.embed_model  # loaded (and made, the first time) before the clock starts
        report = bot.index()
        texts = [n.get_content(metadata_mode="embed") for n in bot.store.nodes()]
        pieces, _ = window_share(texts)  # what the embedder read
        hits, ranks = 0, []
        items = [i for i in load_golden(eval_set.questions) if i.answerable]
        for item in items:
            found = bot.planner.plan(item.question).retrieved
            docs = list(dict.fromkeys(h.node.metadata["doc_id"] for h in found))
            rank = next((r for r, d in enumerate(docs, 1) if d in item.sources), None)
            hits += rank is not None
            ranks.append(1 / rank if rank else 0.0)
    return {
        "backend": backend,
        "set": set_name,
        "documents": report.documents,
        "chunks": report.chunks,
        "index_s": report.seconds,
        "chunks_per_s": report.chunks / report.seconds,
        "word_pieces": pieces,
        "hit_at_k": hits / len(items),
        "mrr": sum(ranks) / len(items),
        "questions": len(items),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--all-pages", action="store_true", help="pydocs: all 530 pages")
    parser.add_argument("--sets", default="golden,pydocs")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "embedders.json")
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(*args.worker, args.all_pages)))
        return
    rows = []
    for set_name in args.sets.split(","):
        for backend in BACKENDS:  # each in its own process: its own threads and memory
            command = [sys.executable, __file__, "--worker", backend, set_name]
            command += ["--all-pages"] if args.all_pages else []
            out = subprocess.run(command, capture_output=True, text=True, env=os.environ)
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
            if not lines:
                raise SystemExit(f"{backend} on {set_name} failed:\n{out.stderr[-3000:]}")
            rows.append(json.loads(lines[-1][7:]))
            r = rows[-1]
            print(
                f"{set_name:<8}{backend:<11}{r['documents']:>6} docs {r['chunks']:>6} chunks "
                f"{r['index_s']:>8.1f} s {r['chunks_per_s']:>7.1f} chunks/s "
                f"{r['word_pieces'] / r['index_s']:>8.0f} pieces/s   hit@k {r['hit_at_k']:.3f} "
                f"MRR {r['mrr']:.3f} ({r['questions']} questions)",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
