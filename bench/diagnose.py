"""Where each miss of a golden set comes from: retrieval, context, the model, or verification.

    python bench/diagnose.py --golden evals/pydocs.jsonl --corpus DIR --index-dir DIR

For every question it asks the real pipeline and sorts a wrong outcome into one bucket:
``retrieval`` (no retrieved chunk is from a source document), ``context`` (retrieved, but
the passages shown to the model lack the expected answer), ``model`` (the answer was in the
prompt and the model refused or answered wrongly), ``verification`` (the model's raw answer
was right and verification refused it), or ``not refused`` for unanswerable questions.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path


def bucket(item, answer, plan) -> str:
    from assistant.evaluation import includes

    if not item.answerable:
        return "ok" if answer.refused else "not refused"
    if not answer.refused and includes(answer.text, item.must_include):
        return "ok"
    if not {hit.node.metadata["doc_id"] for hit in plan.retrieved} & set(item.sources):
        return "retrieval"
    shown = " ".join(p.node.get_content() + " " + p.heading for p in plan.passages)
    if not includes(shown, item.must_include):
        return "context"
    if includes(answer.raw_text, item.must_include):
        return "verification"
    return "model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--golden", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="a JSON lines file of every outcome")
    args = parser.parse_args()

    from assistant import Assistant
    from assistant.evaluation import load_golden

    bot = Assistant(corpus=args.corpus, index_dir=args.index_dir)
    rows = []
    for item in load_golden(args.golden):
        plan = bot.planner.plan(item.question)
        answer = bot.ask(item.question)
        where = bucket(item, answer, plan)
        rows.append({"id": item.id, "bucket": where, "answer": answer.text,
                     "raw": answer.raw_text, "unsupported": answer.unsupported,
                     "seconds": answer.timings.get("total_s", 0.0)})  # fmt: skip
        print(f"{where:<13} {item.id}: {answer.raw_text[:150]!r}", file=sys.stderr, flush=True)
    counts = collections.Counter(r["bucket"] for r in rows)
    print(json.dumps(dict(counts.most_common())))
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
