"""Benchmark: our pipeline against the stock LlamaIndex recipe, same engine, model and embedder.

    python bench/run.py                 # bundled corpus + Debian's Python 3.11 docs (real HTML)
    python bench/run.py --skip-large    # bundled corpus only
    python bench/run.py --generated     # also a templated corpus, for timing and scale only

Each pipeline runs in its own process (so peak RSS is its own) and measures index build,
per-question latency, time to first token, prompt and generated tokens, and answer accuracy.
The stock recipe is ``VectorStoreIndex`` over Chroma + ``CitationQueryEngine`` (top-3), driven
through ``assistant.llm.LlamaCppLLM`` on the same llama.cpp engine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))


def pick(items: list, n: int) -> list:
    """``n`` items spread evenly over the list (all when n >= len)."""
    if n >= len(items):
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def correct(item, text: str, refused: bool) -> bool:
    from assistant.evaluation import outcome_correct

    return outcome_correct(item, text, refused)


def text_mirror(corpus: Path, out: Path) -> Path:
    """The collection as our reader cleans it, one ``.txt`` a document, for the stock recipe:
    its ``SimpleDirectoryReader`` would read HTML as raw markup, and the bench compares the
    pipelines, not the HTML readers."""
    from assistant.ingest import DocumentError, list_corpus_files, read_document

    for path in list_corpus_files(corpus):
        target = out / (path.relative_to(corpus).as_posix() + ".txt")
        if target.exists():
            continue
        try:
            doc = read_document(path, corpus)
        except DocumentError:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(doc.text, encoding="utf-8")
    return out


# --- workers (one pipeline, one process) -------------------------------------------------------


def run_ours(corpus: Path, items, index_dir: Path) -> dict:
    from assistant import Assistant

    bot = Assistant(corpus=corpus, index_dir=index_dir, update_index=False)
    assert bot.embed_model  # loaded (made, the first time) before the clock, as for stock
    index_s = bot.index().seconds
    read, total = window_share([n.get_content(metadata_mode="embed") for n in bot.store.nodes()])
    embedder = f"{bot.store.embedder} ({type(bot.embed_model).__name__})"
    if not items:
        return {"index_s": index_s, "chunks": bot.last_sync.chunks, "embedder": embedder,
                "pieces_read": read, "pieces_total": total, "flash_attention": "-",
                "questions": []}  # fmt: skip
    bot.warm_up()
    bot.ask(items[0].question)  # warm-up question, untimed
    rows = []
    for item in items:
        began = time.perf_counter()
        generation = bot.stream(item.question)
        first = None
        for _ in generation:
            first = first or time.perf_counter() - began
        answer = generation.answer
        u = answer.usage
        rows.append({
            "id": item.id,
            "latency_s": time.perf_counter() - began,
            "ttft_s": first if first is not None else time.perf_counter() - began,
            "prompt_tokens": u.prompt_tokens + u.cached_tokens,
            "prefilled_tokens": u.prompt_tokens,
            "generated_tokens": u.completion_tokens,
            "correct": correct(item, answer.text, answer.refused),
            "answer": answer.text,
            "raw": answer.raw_text,
            "retrieved": answer.retrieved,
        })  # fmt: skip
    flash = bot.llm.engine.flash_attention  # resolved from "auto" by the prompt's length
    return {"index_s": index_s, "chunks": bot.last_sync.chunks, "flash_attention": flash,
            "embedder": embedder, "pieces_read": read, "pieces_total": total,
            "questions": rows}  # fmt: skip


def run_stock(corpus: Path, items, index_dir: Path) -> dict:
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.query_engine import CitationQueryEngine
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from assistant.answer import usage_from
    from assistant.config import Settings
    from assistant.llm import LlamaCppLLM, LlamaEngine
    from assistant.models import embed_model_dir
    from assistant.verify import is_refusal

    settings = Settings()
    usage: list[dict] = []

    class RecordingLLM(LlamaCppLLM):
        """Keeps llama.cpp's token counts of each streamed reply (the bench runs one thread)."""

        def stream_chat(self, messages, **kwargs):
            stream = super().stream_chat(messages, **kwargs)

            def gen():
                for response in stream:
                    if isinstance(response.raw, dict) and response.raw.get("timings"):
                        usage.append(response.raw)
                    yield response

            return gen()

    embed = HuggingFaceEmbedding(model_name=str(embed_model_dir(settings)), device="cpu")

    began = time.perf_counter()
    documents = SimpleDirectoryReader(str(corpus), recursive=True).load_data()
    client = chromadb.PersistentClient(path=str(index_dir))
    collection = client.get_or_create_collection("stock", embedding_function=None)
    storage = StorageContext.from_defaults(
        vector_store=ChromaVectorStore(chroma_collection=collection)
    )
    index = VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embed)
    index_s = time.perf_counter() - began
    from llama_index.core import Settings as LlamaSettings

    nodes = LlamaSettings.node_parser.get_nodes_from_documents(documents)  # as it chunked them
    read, total = window_share([n.get_content(metadata_mode="embed") for n in nodes])
    counts = {"index_s": index_s, "chunks": collection.count(), "pieces_read": read,
              "pieces_total": total,
              "embedder": "all-MiniLM-L6-v2/torch-fp32 (HuggingFaceEmbedding)"}  # fmt: skip
    if not items:
        return {**counts, "questions": []}
    # The same engine and knobs as ours (flash attention as ours chose it for this corpus).
    engine = LlamaEngine.from_settings(settings)
    llm = RecordingLLM(engine, max_tokens=settings.max_answer_tokens, temperature=0.0)
    engine_q = CitationQueryEngine.from_args(index, llm=llm, similarity_top_k=3, streaming=True)

    def timed_query(question: str) -> tuple[str, float, float]:
        began = time.perf_counter()
        response = engine_q.query(question)  # retrieval + the prompt, then streamed tokens
        first, text = None, ""
        for token in response.response_gen:
            first = first or time.perf_counter() - began
            text += token
        total = time.perf_counter() - began
        return text, first if first is not None else total, total

    timed_query(items[0].question)  # warm-up question, untimed
    rows = []
    for item in items:
        usage.clear()
        text, first, total = timed_query(item.question)
        u = usage_from(usage[-1] if usage else None)
        rows.append({
            "id": item.id,
            "latency_s": total,
            "ttft_s": first,
            "prompt_tokens": u.prompt_tokens + u.cached_tokens,
            "prefilled_tokens": u.prompt_tokens,
            "generated_tokens": u.completion_tokens,
            "correct": correct(item, text, is_refusal(text)),
            "answer": text,
        })  # fmt: skip
    return {**counts, "questions": rows}


def window_share(texts: list[str]) -> tuple[int, int]:
    """Word pieces of ``texts`` the embedder read (it stops at 256), and all of them."""
    from tokenizers import Tokenizer

    from assistant.config import Settings
    from assistant.models import embed_model_dir

    tokenizer = Tokenizer.from_file(str(embed_model_dir(Settings()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    sizes = [len(e.ids) for e in tokenizer.encode_batch(texts)]  # with [CLS] and [SEP]
    return sum(min(n, 256) for n in sizes), sum(sizes)


def worker(args) -> None:
    from assistant.evaluation import load_golden

    items = pick(load_golden(Path(args.golden)), args.questions) if args.questions else []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(args.corpus)
        if args.worker == "stock" and args.mirror:
            corpus = text_mirror(corpus, Path(args.mirror))
        run = run_ours if args.worker == "ours" else run_stock
        result = run(corpus, items, Path(tmp) / "index")
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


# --- driver ------------------------------------------------------------------------------------


def summarize(result: dict) -> dict:
    rows = result["questions"]

    from assistant.evaluation import percentile

    build = {
        "index build s": result["index_s"],
        "chunks": result["chunks"],
        "chunks/s": result["chunks"] / result["index_s"] if result["index_s"] else 0.0,
        "pieces embedded k": result["pieces_read"] / 1000,
        "share embedded": result["pieces_read"] / result["pieces_total"],
        "peak RSS MB": result["peak_rss_mb"],
    }
    if not rows:
        return build
    return {
        **build,
        "latency p50 s": statistics.median(r["latency_s"] for r in rows),
        "latency p95 s": percentile([r["latency_s"] for r in rows], 95),
        "TTFT p50 s": statistics.median(r["ttft_s"] for r in rows),
        "prompt tokens p50": statistics.median(r["prompt_tokens"] for r in rows),
        "prefilled tokens p50": statistics.median(r["prefilled_tokens"] for r in rows),
        "generated tokens p50": statistics.median(r["generated_tokens"] for r in rows),
        "accuracy": sum(r["correct"] for r in rows) / len(rows),
    }


def spawn(pipeline: str, corpus: Path, golden: Path, questions: int, mirror: Path | None = None,
          **env: str) -> dict:  # fmt: skip
    command = [sys.executable, __file__, "--worker", pipeline, "--corpus", str(corpus),
               "--golden", str(golden), "--questions", str(questions)]  # fmt: skip
    if mirror:
        command += ["--mirror", str(mirror)]
    out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"{pipeline} on {corpus} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def _link_pages(docs: Path, out: Path) -> None:
    """The collection's pages (not ``_sources/``, ``_static/``, ``_images/``) linked into
    ``out``, keeping their relative paths (the golden set's ``sources``)."""
    for page in docs.rglob("*.html"):
        relative = page.relative_to(docs)
        if relative.parts[0].startswith("_"):
            continue
        target = out / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(page)


def table(name: str, ours: dict, stock: dict, labels=("ours", "stock")) -> str:
    a_, b_ = labels
    lines = [f"\n{name}", f"{'figure':<22}{a_:>12}{b_:>12}{a_ + '/' + b_:>14}"]
    for key in ours:
        a, b = ours[key], stock[key]
        ratio = f"{a / b:.2f}" if b else "-"
        lines.append(f"{key:<22}{a:>12.2f}{b:>12.2f}{ratio:>14}")
    return "\n".join(lines)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main() -> None:
    from assistant.config import offline_environment

    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=["ours", "stock"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--golden", help=argparse.SUPPRESS)
    parser.add_argument("--mirror", help=argparse.SUPPRESS)
    parser.add_argument(
        "--questions",
        type=int,
        default=20,
        help="questions on each large corpus (0: index build only)",
    )
    parser.add_argument(
        "--bundled-questions", type=int, metavar="N",
        help="questions on the bundled corpus (default: all of golden.jsonl, none with "
        "--questions 0: its p50 over 20 moved by a tenth between two runs on one machine)",
    )  # fmt: skip
    parser.add_argument("--skip-large", action="store_true", help="bundled corpus only")
    parser.add_argument(
        "--pydocs", type=Path, default=Path("/usr/share/doc/python3.11/html"),
        help="Debian's python3.11-doc HTML folder: the real large collection",
    )  # fmt: skip
    parser.add_argument(
        "--generated", type=int, default=0, metavar="N",
        help="also a templated corpus of N articles: for timing and scale only, its every "
        "sentence stands on its own, so its accuracy says nothing about real text",
    )  # fmt: skip
    parser.add_argument(
        "--speculative",
        action="store_true",
        help="also run ours with n-gram speculative decoding on the bundled corpus",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where results go")
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    bundled = args.bundled_questions
    if bundled is None:
        from assistant.evaluation import load_golden

        bundled = len(load_golden(REPO / "evals" / "golden.jsonl")) if args.questions else 0
    corpora = [("bundled corpus (2 articles)", REPO / "corpus", REPO / "evals" / "golden.jsonl",
                None, bundled)]  # fmt: skip
    if not args.skip_large:
        if not args.pydocs.is_dir():
            raise SystemExit(f"{args.pydocs} is missing: apt-get install python3.11-doc, "
                             "or pass --skip-large")  # fmt: skip
        pages = args.out / "pydocs"
        _link_pages(args.pydocs, pages)
        corpora.append((f"Python 3.11 docs ({len(list(pages.rglob('*.html')))} real HTML pages)",
                        pages, REPO / "evals" / "pydocs.jsonl",
                        args.out / "pydocs-text", args.questions))  # fmt: skip
    if args.generated:
        from corpus_gen import generate

        large = generate(args.out / "generated", documents=args.generated)
        corpora.append((f"generated corpus ({args.generated} articles from templates: timing "
                        "and scale only, not answer quality)",
                        large / "docs", large / "golden.jsonl", None, args.questions))  # fmt: skip
    report = {"machine": {"cpus": os.cpu_count(), "cpu": _cpu_name()}, "corpora": {}}
    text = []
    for name, corpus, golden, mirror, questions in corpora:
        print(f"running {name} …", file=sys.stderr, flush=True)
        results = {"ours": spawn("ours", corpus, golden, questions)}
        flash = results["ours"]["flash_attention"]
        same_engine = {"ASSISTANT_FLASH_ATTENTION": flash} if flash != "-" else {}
        results["stock"] = spawn("stock", corpus, golden, questions, mirror, **same_engine)
        summary = {p: summarize(r) for p, r in results.items()}
        report["corpora"][name] = {"summary": summary, "raw": results}
        text.append(
            table(name, summary["ours"], summary["stock"])
            + f"\n(flash attention {flash} for both; embedders: ours "
            f"{results['ours']['embedder']}, stock {results['stock']['embedder']}; "
            f"CPU {report['machine']['cpu']}, {report['machine']['cpus']} threads)"
        )
        print(text[-1], flush=True)
        if args.speculative and corpus == REPO / "corpus":
            ngram = summarize(spawn("ours", corpus, golden, questions,
                                    ASSISTANT_SPECULATIVE="ngram"))  # fmt: skip
            report["corpora"][name]["summary"]["ours+ngram"] = ngram
            text.append(table(name + ": speculative decoding", ngram, summary["ours"],
                              labels=("ngram", "plain")))  # fmt: skip
            print(text[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=2))
    (args.out / "table.txt").write_text("\n".join(text) + "\n")
    print(f"\nwrote {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
