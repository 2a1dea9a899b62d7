"""Eval metrics are pure functions: each is tested on cases that pass and cases that fail."""

import json
import subprocess
import sys

import pytest
from conftest import ARTICLE_A, ARTICLE_B, CORPUS, REPO

from assistant import evaluation as ev


def result(**overrides) -> ev.Result:
    base = dict(
        id="q", question="Q?", answerable=True, answer="On January 4 [1].", refused=False,
        cited_sources=[ARTICLE_A], quotes_valid=[True], retrieved=[ARTICLE_A, ARTICLE_B],
        expected_sources=[ARTICLE_A], includes_ok=True, latency_s=1.0,
    )  # fmt: skip
    base.update(overrides)
    return ev.Result(**base)


REFUSED = dict(answer="The sources do not say.", refused=True, cited_sources=[], quotes_valid=[])


def test_includes_needs_every_string_of_one_alternative():
    assert ev.includes("Wang Yi and Ishaq DAR", [["wang yi", "dar"]])
    assert not ev.includes("Wang Yi alone", [["wang yi", "dar"]])
    assert ev.includes("the 7th round", [["seventh"], ["7th"]])
    assert not ev.includes("anything", [])


def test_includes_ignores_citation_markers_and_matches_whole_numbers():
    assert not ev.includes("It grew by 56 percent [1].", [["1"]])
    assert not ev.includes("It grew by 56 percent [5].", [["5"]])
    assert ev.includes("It grew by 5 percent [1].", [["5"]])
    assert not ev.includes("On January 30 [2].", [["January 3"]])
    assert ev.includes("From January 3 to 5 [2].", [["January 3", "5"]])


def test_answer_accuracy_counts_refusals_and_missing_facts_as_wrong():
    results = [result(), result(includes_ok=False), result(**REFUSED), result(answerable=False)]
    assert ev.answer_accuracy(results) == pytest.approx(1 / 3)


def test_citation_accuracy_and_precision():
    good = result()
    wrong = result(cited_sources=[ARTICLE_B])
    mixed = result(cited_sources=[ARTICLE_A, ARTICLE_B])
    assert ev.citation_accuracy([good, wrong, mixed]) == pytest.approx(2 / 3)
    assert ev.citation_precision([good, wrong, mixed]) == pytest.approx(2 / 4)
    assert ev.citation_accuracy([result(**REFUSED)]) == 1.0  # refusals are not citation errors


def test_quote_validity_is_over_all_citations():
    assert ev.quote_validity([result(quotes_valid=[True, False]), result()]) == pytest.approx(2 / 3)
    assert ev.quote_validity([result(answerable=False, quotes_valid=[False])]) == 0.0


def test_refusal_accuracy_and_false_refusal_rate():
    unanswerable_refused = result(answerable=False, expected_sources=[], **REFUSED)
    unanswerable_answered = result(answerable=False, expected_sources=[])
    answerable_refused = result(**REFUSED)
    results = [unanswerable_refused, unanswerable_answered, answerable_refused, result()]
    assert ev.refusal_accuracy(results) == 0.5
    assert ev.false_refusal_rate(results) == 0.5


def test_retrieval_hit_and_mrr_at_article_level():
    first = result(retrieved=[ARTICLE_A, ARTICLE_B])
    second = result(retrieved=[ARTICLE_B, ARTICLE_A])
    miss = result(retrieved=[ARTICLE_B])
    assert ev.retrieval_hit_at_k([first, second, miss]) == pytest.approx(2 / 3)
    assert ev.retrieval_mrr([first, second, miss]) == pytest.approx((1 + 0.5 + 0) / 3)


def test_percentile_uses_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert ev.percentile(values, 50) == 10.0
    assert ev.percentile(values, 95) == 19.0
    assert ev.percentile([], 95) == 0.0


def test_gate_names_each_metric_out_of_bounds():
    bounds = {"minimum": {"answer_accuracy": 0.9}, "maximum": {"false_refusal_rate": 0.1}}
    ok = {"answer_accuracy": 0.95, "false_refusal_rate": 0.0, "errors": 0}
    assert ev.gate(ok, bounds) == []
    bad = {"answer_accuracy": 0.5, "false_refusal_rate": 0.3, "errors": 0}
    failures = ev.gate(bad, bounds)
    assert len(failures) == 2
    assert "answer_accuracy = 0.500 is below its minimum 0.9" in failures[0]
    assert "false_refusal_rate" in failures[1]


def test_regressions_are_questions_that_passed_before():
    now = [result(id="a"), result(id="b", includes_ok=False), result(id="c", includes_ok=False)]
    assert ev.regressions(now, {"passed": {"a": True, "b": True, "c": False}}) == ["b"]


def test_the_bundled_golden_set_covers_what_the_product_promises():
    golden, thresholds = ev.default_paths()
    items = ev.load_golden(golden)
    assert len(items) >= 40
    assert len({i.id for i in items}) == len(items)
    assert sum(not i.answerable for i in items) >= 8
    for item in items:
        assert (item.must_include and item.sources) if item.answerable else not item.must_include
        assert set(item.sources) <= {ARTICLE_A, ARTICLE_B}
    text = json.dumps([i.__dict__ for i in items]).lower()
    for topic in ("january 4", "wang yi", "seventh", "beijing", "gwadar", "karakoram",
                  "khunjerab", "75", "islamabad", "mining"):  # fmt: skip
        assert topic in text, topic
    tags = [tag for item in items for tag in item.tags]
    assert tags.count("paraphrase") >= 20 and tags.count("near-miss") >= 8
    traps = [item for item in items if "relation-trap" in item.tags]
    assert len(traps) >= 8 and all(item.must_not_include for item in traps)
    articles = {name: (CORPUS / name).read_text().lower() for name in (ARTICLE_A, ARTICLE_B)}
    for item in items:  # every answer is in its articles, in one of its wordings
        if item.answerable:
            assert any(
                all(any(s.lower() in articles[a] for a in item.sources) for s in alternative)
                for alternative in item.must_include
            ), item.id
    bounds = ev.load_thresholds(thresholds)
    assert bounds["minimum"]["answer_accuracy"] >= 0.80  # see thresholds.toml for why not 0.90
    assert bounds["minimum"]["refusal_accuracy"] >= 0.89
    assert bounds["minimum"]["quote_validity"] == 1.0
    assert bounds["maximum"]["false_refusal_rate"] <= 0.14


def test_a_sampled_set_asks_every_nth_question_of_each_kind_in_file_order(tmp_path):
    kinds = [True, False, True, True, False, True, True, False, True, True]
    questions = tmp_path / "set.jsonl"
    questions.write_text("".join(
        json.dumps({"id": f"q{n}", "question": "Q?", "answerable": kind,
                    "must_include": [["x"]] if kind else [], "sources": ["a.html"]}) + "\n"
        for n, kind in enumerate(kinds)
    ))  # fmt: skip
    whole = ev.EvalSet("s", questions, None)
    assert [item.id for item in whole.items()] == [f"q{n}" for n in range(10)]
    sampled = ev.EvalSet("s", questions, None, every=3)
    # answerable q0 q2 q3 q5 q6 q8 q9 -> q0 q5 q9; unanswerable q1 q4 q7 -> q1
    assert [item.id for item in sampled.items()] == ["q0", "q1", "q5", "q9"]


def test_make_tests_pydocs_sample_is_a_quarter_of_the_whole_set_with_both_kinds():
    sets = ev.eval_sets()
    whole, sample = sets["pydocs"], sets["pydocs-ci"]
    assert (sample.questions, sample.pages, sample.collection) == (whole.questions, whole.pages,
                                                                   "pydocs")  # fmt: skip
    everything, asked = whole.items(), sample.items()
    assert {i.id for i in asked} < {i.id for i in everything}
    assert len(asked) >= len(everything) // 4 and sum(not i.answerable for i in asked) >= 3
    golden, thresholds = ev.default_paths()
    assert ev.load_thresholds(thresholds, "pydocs-ci")["minimum"]["quote_validity"] == 1.0


def test_a_relation_trap_fails_on_what_only_the_wrong_answer_says():
    item = ev.GoldenItem("t", "Who led Pakistan's side?", True, [["Dar"]],
                         must_not_include=["Wang Yi led"])  # fmt: skip
    assert ev.outcome_correct(item, "Ishaq Dar led it at Wang Yi's invitation [1].", False)
    assert not ev.outcome_correct(item, "Wang Yi led it, with Dar [1].", False)
    assert not ev.outcome_correct(item, "The sources do not say.", True)


def test_reports_are_written(tmp_path):
    results = [result(id="good"), result(id="bad", includes_ok=False), result(id="err", error="X")]
    summary = ev.summarize(results)
    ev.write_reports(tmp_path, results, summary, ["answer_accuracy low"], ["bad"])
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3
    assert json.loads((tmp_path / "summary.json").read_text())["regressions"] == ["bad"]
    junit = (tmp_path / "junit.xml").read_text()
    assert 'tests="3"' in junit and 'failures="1"' in junit and 'errors="1"' in junit
    assert "FAIL: answer_accuracy low" in (tmp_path / "report.md").read_text()


BROKEN_PIPELINE = """
import sys
sys.path.insert(0, "tests")
from conftest import CannedLLM, HashEmbedding
from assistant import cli, retrieve
from assistant.api import Assistant

class NothingRetriever(retrieve.BaseRetriever):
    def _retrieve(self, query_bundle):
        return []

retrieve.build_retriever = lambda store, embed, k, nodes=None: NothingRetriever()
# With nothing retrieved and a large-collection setting, the model sees no sources.
from assistant.config import Settings
cli._open = lambda corpus, index_dir, progress=True: Assistant(
    corpus=corpus, index_dir=index_dir, llm=CannedLLM(), embed_model=HashEmbedding(),
    settings=Settings(full_context_tokens=0))
sys.argv = ["assistant", *sys.argv[1:]]
cli.main()
"""


def test_a_broken_pipeline_fails_the_eval_command(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", BROKEN_PIPELINE, "eval", "--set", "golden", "--index-dir",
         str(tmp_path / "ix"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert out.returncode == 1, out.stderr[-2000:]
    assert "eval gate (golden): answer_accuracy" in out.stderr
    assert "eval gate (golden): retrieval_hit_at_k" in out.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["answer_accuracy"] == 0.0 and summary["refusal_accuracy"] == 1.0


def test_the_verifier_keeps_its_precision_and_recall_on_labelled_real_claims():
    """evals/support.jsonl: claims from real answers against their quotes, labelled by hand,
    with paraphrases, number words, wrong dates and numbers, invented names, negations,
    near-miss details and relation swaps."""
    scores = ev.support_scores(REPO / "evals" / "support.jsonl")
    print(scores)
    kinds = [json.loads(line)["kind"] for line in (REPO / "evals" / "support.jsonl").open()]
    assert scores["pairs"] >= 30 and {"relation-swap", "near-miss", "paraphrase"} <= set(kinds)
    assert scores["recall"] >= 0.9, scores["wrong"]
    assert scores["precision"] >= 0.85, scores["wrong"]
