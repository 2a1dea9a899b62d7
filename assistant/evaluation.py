"""Regression evals: run a golden set through an Assistant, score it deterministically, gate it.

Every metric is a small pure function over per-question results; no LLM judges anything.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import statistics
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import data_dir


@dataclass
class GoldenItem:
    id: str
    question: str
    answerable: bool
    must_include: list[list[str]] = field(default_factory=list)  # any alternative, all strings
    sources: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # Strings only a wrong answer holds: the other party of a relation ("Wang Yi" for "Who
    # led Pakistan's side?"), a role that belongs to someone else.
    must_not_include: list[str] = field(default_factory=list)


@dataclass
class Result:
    """One question's outcome, with what each metric needs."""

    id: str
    question: str
    answerable: bool
    answer: str
    refused: bool
    cited_sources: list[str]
    quotes_valid: list[bool]
    retrieved: list[str]
    expected_sources: list[str]
    includes_ok: bool
    latency_s: float
    citations: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        if self.error:
            return False
        if not self.answerable:
            return self.refused
        return answer_correct(self) and citation_correct(self) and all(self.quotes_valid)


def load_golden(path: Path) -> list[GoldenItem]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(GoldenItem(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a golden item ({exc})") from exc
    return items


def includes(text: str, alternatives: list[list[str]]) -> bool:
    """True when every string of at least one alternative occurs in ``text`` (any case).

    Citation markers are ignored and numbers match whole: "5" is not found in "[5]" or "25".
    """
    from .verify import MARKER

    lowered = MARKER.sub("", text).lower()

    def found(needle: str) -> bool:
        pattern = re.escape(needle.lower())
        pattern = (r"(?<!\d)" if needle[:1].isdigit() else "") + pattern
        pattern += r"(?!\d)" if needle[-1:].isdigit() else ""
        return re.search(pattern, lowered) is not None

    return any(all(found(s) for s in alt) for alt in alternatives)


# --- per-question checks ----------------------------------------------------------------------


def outcome_correct(item: GoldenItem, text: str, refused: bool) -> bool:
    """An answerable question answered with every required string, or another refused."""
    if not item.answerable:
        return refused
    return not refused and answer_holds(item, text)


def answer_holds(item: GoldenItem, text: str) -> bool:
    """Every string of one ``must_include`` alternative, and none of ``must_not_include``."""
    wrong = [[s] for s in item.must_not_include]
    return includes(text, item.must_include) and not (wrong and includes(text, wrong))


def answer_correct(r: Result) -> bool:
    return r.answerable and not r.refused and r.includes_ok


def citation_correct(r: Result) -> bool:
    return bool(set(r.cited_sources) & set(r.expected_sources))


def first_relevant_rank(r: Result) -> int | None:
    for rank, doc in enumerate(r.retrieved, 1):
        if doc in r.expected_sources:
            return rank
    return None


# --- metrics ----------------------------------------------------------------------------------


def _share(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def answer_accuracy(results: list[Result]) -> float:
    """Answerable questions answered (not refused) with every required string."""
    answerable = [r for r in results if r.answerable]
    return _share(sum(answer_correct(r) for r in answerable), len(answerable))


def citation_accuracy(results: list[Result]) -> float:
    """Answered answerable questions citing at least one article that holds the answer."""
    answered = [r for r in results if r.answerable and not r.refused]
    return _share(sum(citation_correct(r) for r in answered), len(answered))


def citation_precision(results: list[Result]) -> float:
    """Share of cited articles (over answered answerable questions) that hold the answer."""
    cited = [(s, r) for r in results if r.answerable and not r.refused for s in r.cited_sources]
    return _share(sum(s in r.expected_sources for s, r in cited), len(cited))


def quote_validity(results: list[Result]) -> float:
    """Share of all citations whose quote is found verbatim at its offsets."""
    checks = [ok for r in results for ok in r.quotes_valid]
    return _share(sum(checks), len(checks))


def refusal_accuracy(results: list[Result]) -> float:
    """Unanswerable questions that were refused."""
    unanswerable = [r for r in results if not r.answerable]
    return _share(sum(r.refused for r in unanswerable), len(unanswerable))


def false_refusal_rate(results: list[Result]) -> float:
    """Answerable questions that were refused (lower is better)."""
    answerable = [r for r in results if r.answerable]
    return 1.0 - _share(sum(not r.refused for r in answerable), len(answerable))


def retrieval_hit_at_k(results: list[Result]) -> float:
    """Answerable questions whose retrieved articles include one that holds the answer."""
    answerable = [r for r in results if r.answerable]
    return _share(sum(first_relevant_rank(r) is not None for r in answerable), len(answerable))


def retrieval_mrr(results: list[Result]) -> float:
    """Mean reciprocal rank of the first relevant article, at article level."""
    answerable = [r for r in results if r.answerable]
    ranks = [first_relevant_rank(r) for r in answerable]
    return _share(sum(1 / k for k in ranks if k), len(answerable)) if answerable else 1.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


METRICS = {
    "answer_accuracy": answer_accuracy,
    "citation_accuracy": citation_accuracy,
    "citation_precision": citation_precision,
    "quote_validity": quote_validity,
    "refusal_accuracy": refusal_accuracy,
    "false_refusal_rate": false_refusal_rate,
    "retrieval_hit_at_k": retrieval_hit_at_k,
    "retrieval_mrr": retrieval_mrr,
}


def summarize(results: list[Result]) -> dict:
    latencies = [r.latency_s for r in results if not r.error]
    summary = {name: round(fn(results), 4) for name, fn in METRICS.items()}
    summary.update(
        questions=len(results),
        passed=sum(r.passed for r in results),
        errors=sum(bool(r.error) for r in results),
        latency_p50_s=round(statistics.median(latencies), 3) if latencies else 0.0,
        latency_p95_s=round(percentile(latencies, 95), 3),
    )
    return summary


def gate(summary: dict, thresholds: dict) -> list[str]:
    """Each metric outside its bound, as a sentence; empty when all pass."""
    failures = []
    for name, minimum in thresholds.get("minimum", {}).items():
        if summary.get(name, 0.0) < minimum:
            failures.append(f"{name} = {summary.get(name, 0.0):.3f} is below its minimum {minimum}")
    for name, maximum in thresholds.get("maximum", {}).items():
        if summary.get(name, 1.0) > maximum:
            failures.append(f"{name} = {summary.get(name, 1.0):.3f} is above its maximum {maximum}")
    if summary.get("errors"):
        failures.append(f"{summary['errors']} question(s) raised an error")
    return failures


def regressions(results: list[Result], baseline: dict) -> list[str]:
    """Questions that passed in the baseline and fail now."""
    before = baseline.get("passed", {})
    return [r.id for r in results if before.get(r.id) and not r.passed]


# --- running ----------------------------------------------------------------------------------


def run_question(bot, item: GoldenItem) -> Result:
    began = time.perf_counter()
    try:
        answer = bot.ask(item.question)
    except Exception as exc:  # one broken question must not hide the others' results
        return Result(item.id, item.question, item.answerable, "", False, [], [], [],
                      item.sources, False, time.perf_counter() - began,
                      error=f"{type(exc).__name__}: {exc}")  # fmt: skip
    latency = time.perf_counter() - began
    texts = {doc.doc_id: doc.text for doc in bot.documents()}
    valid = [texts.get(c.source, "")[c.start : c.end] == c.quote for c in answer.citations]
    return Result(
        id=item.id,
        question=item.question,
        answerable=item.answerable,
        answer=answer.text,
        refused=answer.refused,
        cited_sources=list(dict.fromkeys(c.source for c in answer.citations)),
        quotes_valid=valid,
        retrieved=answer.retrieved,
        expected_sources=item.sources,
        includes_ok=answer_holds(item, answer.text) if item.answerable else True,
        latency_s=latency,
        citations=[asdict(c) for c in answer.citations],
    )


def default_paths() -> tuple[Path, Path]:
    """The bundled golden set and thresholds (``evals/`` in a checkout)."""
    evals = data_dir("evals")
    return evals / "golden.jsonl", evals / "thresholds.toml"


def load_thresholds(path: Path, name: str = "golden") -> dict:
    """The bounds of the set ``name`` (a ``[name.minimum]`` table and so on); a file with
    top-level ``[minimum]``/``[maximum]`` tables applies to every set."""
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return data.get(name, {}) if name in data else data


@dataclass(frozen=True)
class EvalSet:
    """A golden set and the collection it is asked of."""

    name: str
    questions: Path
    corpus: Path | None  # None: the bundled corpus
    pages: list[str] | None = None  # only these files of ``corpus`` (a CI-sized subset)
    every: int = 1  # ask every n-th answerable and every n-th unanswerable question
    collection: str = ""  # names the folders its corpus copy and index live in (default: name)

    def items(self) -> list[GoldenItem]:
        """Its questions: all of them, or every ``every``-th of each kind, in file order."""
        seen = {True: 0, False: 0}
        kept = []
        for item in load_golden(self.questions):
            if seen[item.answerable] % self.every == 0:
                kept.append(item)
            seen[item.answerable] += 1
        return kept


PYDOCS_DIR = Path("/usr/share/doc/python3.11/html")


def eval_sets(pydocs_dir: Path = PYDOCS_DIR) -> dict[str, EvalSet]:
    """The bundled sets: ``golden`` on the bundled corpus, ``pydocs`` on a subset of Debian's
    Python 3.11 documentation (package python3.11-doc), real HTML nobody here wrote, and
    ``pydocs-ci``, every 4th question of each kind of ``pydocs``, which ``make test`` asks."""
    evals = data_dir("evals")
    pages = (evals / "pydocs-pages.txt").read_text(encoding="utf-8").split()
    pydocs = evals / "pydocs.jsonl"
    return {
        "golden": EvalSet("golden", evals / "golden.jsonl", None),
        "pydocs": EvalSet("pydocs", pydocs, pydocs_dir, pages),
        "pydocs-ci": EvalSet("pydocs-ci", pydocs, pydocs_dir, pages, every=4, collection="pydocs"),
    }


def prepare_corpus(eval_set: EvalSet, target: Path) -> Path | None:
    """The folder to index for ``eval_set``: its pages copied into ``target`` (kept as they
    are when unchanged, so the index is reused), or None for the bundled corpus."""
    from .errors import CorpusError

    if eval_set.corpus is None:
        return None
    if not eval_set.corpus.is_dir():
        raise CorpusError(
            f"the {eval_set.name} eval reads {eval_set.corpus}, which is missing; install it "
            "(apt-get install python3.11-doc) or run another set (--set golden)"
        )
    if eval_set.pages is None:
        return eval_set.corpus
    for page in eval_set.pages:
        source, copy = eval_set.corpus / page, target / page
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
    return target


# --- reports ----------------------------------------------------------------------------------


def write_reports(out: Path, results: list[Result], summary: dict, failures: list[str],
                  regressed: list[str]) -> None:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:
        for r in results:
            row = asdict(r)
            row.update(
                passed=r.passed,
                checks={
                    "answer": answer_correct(r) if r.answerable else None,
                    "citation": citation_correct(r) if r.answerable and not r.refused else None,
                    "quotes": all(r.quotes_valid),
                    "refusal": r.refused if not r.answerable else None,
                },
            )
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    full = {**summary, "gate_failures": failures, "regressions": regressed}
    (out / "summary.json").write_text(json.dumps(full, indent=2) + "\n")
    _write_junit(out / "junit.xml", results)
    (out / "report.md").write_text(markdown_report(results, summary, failures, regressed))


def _write_junit(path: Path, results: list[Result]) -> None:
    suite = ET.Element(
        "testsuite",
        name="assistant-eval",
        tests=str(len(results)),
        failures=str(sum(not r.passed and not r.error for r in results)),
        errors=str(sum(bool(r.error) for r in results)),
        time=f"{sum(r.latency_s for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite, "testcase", classname="golden", name=r.id, time=f"{r.latency_s:.3f}"
        )
        if r.error:
            ET.SubElement(case, "error", message=r.error)
        elif not r.passed:
            why = "not refused" if not r.answerable else _why(r)
            ET.SubElement(case, "failure", message=why).text = f"Q: {r.question}\nA: {r.answer}"
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _why(r: Result) -> str:
    if r.refused:
        return "refused an answerable question"
    if not r.includes_ok:
        return "answer lacks the expected facts"
    if not citation_correct(r):
        return f"cited {r.cited_sources}, expected one of {r.expected_sources}"
    return "a quote is not at its offsets"


def markdown_report(results, summary, failures, regressed) -> str:
    lines = ["# Eval report", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary.items()]
    lines += ["", "## Gate", ""]
    lines += [f"- FAIL: {f}" for f in failures] or ["All metrics within their thresholds."]
    if regressed:
        lines += ["", "## Regressions against the baseline", ""]
        lines += [f"- {q}" for q in regressed]
    lines += ["", "## Questions", "", "| id | pass | latency s | answer |", "|---|---|---|---|"]
    for r in results:
        answer = (r.error or r.answer).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r.id} | {'✅' if r.passed else '❌'} | {r.latency_s:.2f} | {answer} |")
    return "\n".join(lines) + "\n"


def baseline_from(results: list[Result], summary: dict) -> dict:
    return {"summary": summary, "passed": {r.id: r.passed for r in results}}


# --- calibrating verification -------------------------------------------------------------------


def support_scores(path: Path, rules=None) -> dict:
    """Precision and recall of the verifier on labelled ``(claim, quote, supported)`` pairs
    (``evals/support.jsonl``, built from real answers): each claim is checked against its
    quote alone, under its heading and for its question when the pair has one, as
    verification checks answer sentences."""
    from llama_index.core.schema import TextNode

    from .prompts import Passage
    from .verify import SupportRules, find_support

    rules = rules or SupportRules()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    outcomes = []
    for row in rows:
        title, _, section = row.get("heading", "").partition(" › ")
        metadata = {"doc_id": "q", "start": 0, "title": title, "section": section}
        passage = Passage(1, TextNode(id_="q", text=row["quote"], metadata=metadata))
        text_of = {"q": row["quote"]}.get
        said = bool(find_support(row["claim"], [passage], text_of, rules, row.get("question", "")))
        outcomes.append((said, bool(row["supported"]), row.get("kind", "")))
    true_pos = sum(said and truth for said, truth, _ in outcomes)
    said_yes = sum(said for said, _, _ in outcomes)
    truly = sum(truth for _, truth, _ in outcomes)
    return {
        "pairs": len(rows),
        "precision": round(_share(true_pos, said_yes), 3),
        "recall": round(_share(true_pos, truly), 3),
        "wrong": [
            f"{kind}: {row['claim']}"
            for (said, truth, kind), row in zip(outcomes, rows)
            if said != truth
        ],  # fmt: skip
    }
