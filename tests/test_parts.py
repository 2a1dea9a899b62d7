"""The parts behind the facade, each alone with fakes: rank fusion, follow-up rewriting's
fallbacks, and the in-process engine's streaming (errors and cancellation)."""

import threading
import time

import pytest
from llama_index.core import QueryBundle
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, TextNode

from assistant.retrieve import HybridRetriever


class ListRetriever(BaseRetriever):
    def __init__(self, ids):
        super().__init__()
        self.ids = ids

    def _retrieve(self, query_bundle):
        return [NodeWithScore(node=TextNode(id_=i, text=i), score=1.0) for i in self.ids]


def test_rank_fusion_favours_what_both_retrievers_found_and_breaks_ties_by_id():
    hybrid = HybridRetriever(ListRetriever(["a", "b", "c"]), ListRetriever(["c", "d", "a"]), 3, 60)
    fused = hybrid.fuse(QueryBundle("q"))
    assert [h.node.node_id for h in fused] == ["a", "c", "b", "d"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 63)  # ranks 1 and 3
    assert fused[1].score == pytest.approx(1 / 63 + 1 / 61)  # the same sum: "a" < "c"
    assert fused[2].score == pytest.approx(1 / 62)  # "b" and "d" tie too: "b" < "d"
    assert [h.node.node_id for h in hybrid.retrieve("q")] == ["a", "c", "b"]  # top_k


@pytest.mark.parametrize(
    "reply",
    ["", "The sources do not say.", "x" * 500, "   \n"],
    ids=["empty", "a refusal", "far too long", "blank"],
)
def test_a_rewrite_that_fails_keeps_the_question_as_asked(make_assistant, reply):
    bot = make_assistant(reply=lambda messages: reply)
    history = [("Which minister visited China?", "Ishaq Dar [1].")]
    assert bot.rewrite("And who hosted him?", history) == "And who hosted him?"


def test_a_rewrite_takes_only_its_first_line_without_quotes(make_assistant):
    bot = make_assistant(reply=lambda messages: '"Who hosted Ishaq Dar?"\nBecause "him" is Dar.')
    history = [("Which minister visited China?", "Ishaq Dar [1].")]
    assert bot.rewrite("And who hosted him?", history) == "Who hosted Ishaq Dar?"


class FakeServer:
    """Stands in for xllamacpp's server: streams chunks to the callback until told to stop."""

    def __init__(self, chunks=5, error=None, raises=None, pause=0.0):
        self.chunks, self.error, self.raises, self.pause = chunks, error, raises, pause
        self.sent = 0
        self.stopped = threading.Event()

    def handle_chat_completions(self, request, callback):
        for n in range(self.chunks):
            time.sleep(self.pause)  # as a model does between tokens
            self.sent += 1
            if callback({"choices": [{"delta": {"content": f"w{n} "}}]}):
                self.stopped.set()
                return {}
        if self.raises:
            raise self.raises
        return {"error": self.error} if self.error else {}


def engine_with(server):
    from assistant.llm import LlamaEngine

    engine = LlamaEngine.__new__(LlamaEngine)  # no model: only the streaming plumbing
    engine._server = server
    return engine


def test_an_engine_error_after_some_chunks_reaches_the_consumer():
    stream = engine_with(FakeServer(chunks=2, error="out of memory")).stream_chat([])
    assert len([next(stream), next(stream)]) == 2
    with pytest.raises(RuntimeError, match="out of memory"):
        next(stream)


def test_an_exception_in_the_engine_thread_is_raised_in_the_consumers():
    stream = engine_with(FakeServer(chunks=1, raises=ValueError("bad request"))).stream_chat([])
    next(stream)
    with pytest.raises(ValueError, match="bad request"):
        next(stream)


def test_closing_the_stream_stops_generation_at_the_next_chunk():
    server = FakeServer(chunks=1000, pause=0.005)
    stream = engine_with(server).stream_chat([])
    next(stream)
    stream.close()  # what a consumer that stops iterating does, e.g. a closed browser tab
    assert server.stopped.wait(5) and server.sent < 1000
