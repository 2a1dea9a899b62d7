"""The public facade: :class:`Assistant` answers with :class:`Answer` and :class:`Citation`.

The CLI, the UI, notebooks and the eval suite all go through this class. One question goes
check → rewrite → retrieve and plan the context → generate → verify.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from .answer import Generation, Request
from .config import Settings, offline_environment
from .conversations import Conversations, ConversationStore
from .corpus import CorpusFolder, paragraph_around, safe_file_name
from .embedder import embedder_id
from .errors import BusyError, IndexDamagedError, QuestionError
from .indexer import Indexer
from .planner import ContextPlanner
from .prompts import build_messages, fill, load_prompt, numbered_sentences, pick_messages
from .results import Answer, Citation, SearchHit
from .store import DocRecord, Store, SyncReport
from .verify import MARKER, SupportRules, is_refusal

__all__ = ["Assistant", "Answer", "Citation", "safe_file_name"]
log = logging.getLogger(__name__)
CONVERSATIONS_FILE = "conversations.sqlite3"


class _NotSaved:
    """The default of ``conversation``: the answer is not saved (None means a new one)."""

    def __repr__(self) -> str:
        return "NOT_SAVED"


NOT_SAVED = _NotSaved()


class Assistant:
    """Question answering over one corpus folder, with citations verified against the text.

    ``Assistant()`` uses the bundled corpus and ``index/``; ``Assistant(corpus="docs/",
    index_dir="/tmp/ix")`` any folder. The index is built or brought up to date on creation;
    the LLM is loaded on the first question. Thread-safe: one instance serves many threads.
    """

    def __init__(
        self,
        corpus: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        llm: Any = None,
        embed_model: Any = None,
        update_index: bool = True,
        progress: Callable[[int, int, str], None] | None = None,
    ):
        offline_environment()
        self.settings = settings or Settings()
        if corpus is not None:
            self.settings.corpus_dir = Path(corpus)
        if index_dir is not None:
            self.settings.index_dir = Path(index_dir)
        s = self.settings
        self.corpus_dir = s.resolved_corpus_dir()
        self.corpus = CorpusFolder(self.corpus_dir, s.max_upload_bytes)
        self._llm = llm
        self._embed_model = embed_model
        self._planner: ContextPlanner | None = None
        self._conversations: Conversations | None = None
        self._lock = threading.RLock()  # the lazily loaded parts
        self._index_lock = threading.Lock()
        # One permit per LLM slot: questions beyond them wait here, at most queue_timeout.
        self._slots = threading.BoundedSemaphore(s.n_parallel)
        self._busy = 0
        self.store = Store(
            s.resolved_index_dir(),
            collection=s.collection,
            chroma_url=s.chroma_url,
            chunk_words=s.chunk_words,
            embedder=embedder_id(s.embed_backend) if embed_model is None else "custom",
        )
        self.last_sync: SyncReport | None = None
        if update_index:
            self.index(progress=progress)

    # --- parts, loaded once and on first use ----------------------------------------------------

    @property
    def embed_model(self):
        """The LlamaIndex embedding model (all-MiniLM-L6-v2 by default)."""
        with self._lock:
            if self._embed_model is None:
                from .embedder import load_embedder
                from .models import embed_model_dir

                s = self.settings
                if s.embed_backend == "torch":
                    # Before loading: no OpenMP threads of torch's in this thread (see index()).
                    _set_torch_threads(s.query_embed_threads)
                self._embed_model = load_embedder(
                    embed_model_dir(s), s.embed_backend, s.resolved_model_cache_dir(), s.n_threads
                )
            return self._embed_model

    @property
    def llm(self):
        """The LlamaIndex ``LLM`` in use (the in-process llama.cpp engine by default)."""
        with self._lock:
            if self._llm is None:
                from .llm import llm_from_settings

                # The prompt's length tunes the in-process engine (flash attention, cache).
                fixed = None if self.settings.llm_url else self.planner.fixed
                self._llm = llm_from_settings(self.settings, long_prompt=bool(fixed))
            return self._llm

    @property
    def planner(self) -> ContextPlanner:
        """Retrieval and context choice over the index as it is now."""
        with self._lock:
            if self._planner is None:
                reason = self.store.stale_reason()
                if reason:
                    raise IndexDamagedError(f"{reason}; run `assistant index` to update it")
                self._planner = ContextPlanner(self.store, self.embed_model, self.settings)
            return self._planner

    # --- indexing ---------------------------------------------------------------------------

    def index(
        self, rebuild: bool = False, progress: Callable[[int, int, str], None] | None = None
    ) -> SyncReport:
        """Add new, replace changed and drop deleted documents of the corpus folder."""
        stop = threading.Event()

        def step(done: int, total: int, doc_id: str) -> None:
            if stop.is_set():
                raise KeyboardInterrupt  # between documents: the batches written are kept
            if progress:
                progress(done, total, doc_id)

        # The embedder loads only if a file needs embedding: a sync with nothing to do is quick.
        indexer = Indexer(self.store, lambda: self.embed_model, self.settings.max_file_bytes)

        def sync() -> SyncReport:
            # Embedding many chunks is worth all the threads; a question is not.
            _set_torch_threads(self.settings.n_threads)
            try:
                return indexer.sync(self.corpus_dir, rebuild=rebuild, progress=step)
            finally:
                _set_torch_threads(self.settings.query_embed_threads)

        # In a thread of its own, because the OpenMP threads torch starts for a caller live as
        # long as that caller: left behind, they make GNU OpenMP manage more threads than there
        # are cores, and it then puts llama.cpp's threads to sleep at each of the hundreds of
        # barriers per token instead of letting them spin (answers ~15% slower, measured).
        with self._index_lock, ThreadPoolExecutor(1, "assistant-index") as pool:
            future = pool.submit(contextvars.copy_context().run, sync)  # Gradio's progress
            try:
                report = future.result()
            except KeyboardInterrupt:
                stop.set()  # Ctrl-C: stop at the next document, then raise it here
                wait([future])
                raise
            finally:
                with self._lock:
                    self._planner = None  # made again on the next question, over the new chunks
        log.info("index: %s", report.summary())
        self.last_sync = report
        return report

    def documents(self) -> list[DocRecord]:
        """The indexed documents, sorted by id."""
        return list(self.store.records().values())

    # --- answering --------------------------------------------------------------------------

    def _check(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise QuestionError("the question is empty: type a question about the documents")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"the question is {len(question):,} characters; the limit is {limit:,} "
                "(shorten it, or raise ASSISTANT_MAX_QUESTION_CHARS)"
            )
        return question

    def rewrite(self, question: str, history: Sequence[tuple[str, str]] | None) -> str:
        """A follow-up question made standalone from the conversation (``(question, answer)``
        pairs, oldest first); the question itself when it refers to nothing earlier."""
        question = self._check(question)
        if not history or not _REFERS_BACK.search(question):
            return question
        turns = "\n".join(f"Q: {q}\nA: {MARKER.sub('', a)}" for q, a in list(history)[-3:])
        prompt = fill(load_prompt("rewrite"), conversation=turns, question=question)
        reply = self.llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)], max_tokens=60)
        lines = (reply.message.content or "").strip().splitlines()
        rewritten = lines[0].strip().strip('"') if lines else ""
        if not rewritten or len(rewritten) > 2 * len(question) + 200 or is_refusal(rewritten):
            log.info("kept the question as asked; the rewrite was %r", rewritten)
            return question
        log.info("rewrote the follow-up as %r", rewritten)
        return rewritten

    def stream(
        self,
        question: str,
        history: Sequence[tuple[str, str]] | None = None,
        conversation: str | None | _NotSaved = NOT_SAVED,
    ) -> Generation:
        """Iterate for text pieces as they are generated; ``.answer`` holds the final Answer.

        With ``history`` (earlier ``(question, answer)`` pairs) a follow-up such as "And who
        hosted him?" is first rewritten into a standalone question (``Answer.rewritten``).
        With ``conversation`` (a conversation id, or None for a new one) the answer is saved
        to it, and its earlier turns are the history (``Answer.conversation_id`` says which).
        """
        asked = self._check(question)
        save = conversation is not NOT_SAVED and self.settings.save_conversations
        if save and conversation is not None and history is None:
            history = self.conversations.history(conversation)  # an unknown id fails here
        planner = self.planner  # loads the embedder and retriever outside the timings
        self._take_slot()
        try:
            generation = self._generation(asked, history, planner)
        except BaseException:
            self._free_slot()
            raise
        if save:
            generation.on_answer = lambda answer: self._save(conversation, asked, answer, planner)
        return generation

    @property
    def conversations(self) -> Conversations:
        """Saved conversations: ``list()``, ``get(id)``, ``rename``, ``delete``, ``export``."""
        with self._lock:
            if self._conversations is None:
                s = self.settings
                store = None
                if s.save_conversations:
                    path = s.conversations_path or s.resolved_index_dir() / CONVERSATIONS_FILE
                    store = ConversationStore(path.expanduser())
                self._conversations = Conversations(
                    store, lambda doc_id: self.store.records().get(doc_id)
                )
            return self._conversations

    def _save(self, cid: str | None, question: str, answer: Answer, planner) -> None:
        store = self.conversations.store
        if store is None:
            return
        if cid is None:
            cid = store.create(question)
        hashes = {c.source: planner.records[c.source].sha256 for c in answer.citations}
        store.append(cid, question, answer, hashes)
        answer.conversation_id = cid

    @property
    def busy_slots(self) -> int:
        """How many of the engine's ``n_parallel`` slots are answering now."""
        return self._busy

    def _take_slot(self) -> None:
        wait = self.settings.queue_timeout
        if not self._slots.acquire(timeout=wait):
            n = self.settings.n_parallel
            raise BusyError(
                f"all {n} answer slot{'s' * (n > 1)} stayed busy for {wait:.0f} s: ask again "
                "shortly, or raise ASSISTANT_N_PARALLEL / ASSISTANT_QUEUE_TIMEOUT",
                retry_after=max(1, round(wait / 10)),
            )
        with self._lock:
            self._busy += 1

    def _free_slot(self) -> None:
        with self._lock:
            self._busy -= 1
        self._slots.release()

    def _generation(self, asked: str, history, planner) -> Generation:
        began = time.perf_counter()
        question = self.rewrite(asked, history)
        timings = {"rewrite_s": time.perf_counter() - began} if question != asked else {}
        began = time.perf_counter()
        plan = planner.plan(question)
        timings["retrieve_s"] = time.perf_counter() - began
        llm = self.llm
        if plan.fixed and hasattr(llm, "ensure_prefilled"):
            # Restored from disk in a new process; otherwise the first question pre-fills it.
            llm.ensure_prefilled(build_messages("Ready?", plan.passages), compute=False)
        s = self.settings
        return Generation(
            Request(
                question=question,
                passages=plan.passages,
                fixed=plan.fixed,
                retrieved=plan.retrieved,
                llm=llm,
                text_of=planner.text_of,
                page_of=planner.page_of,
                sections_of=planner.sections_of,
                max_tokens=s.max_answer_tokens,
                temperature=s.temperature,
                rules=SupportRules(
                    threshold=s.support_threshold,
                    similarity=self._similarity if s.semantic_support else None,
                    min_similarity=s.min_similarity,
                    names=planner.names,
                    common=planner.common_words,
                    unheard=planner.unheard_words(question),
                    rare=planner.rare_words(question),
                ),
                asked=asked,
                second_look=s.second_look,
                pointing=plan.pointing,
                rare_terms=planner.rare_terms(question),
                timings=timings,
            ),
            release=self._free_slot,
        )

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] | None = None,
        conversation: str | None | _NotSaved = NOT_SAVED,
    ) -> Answer:
        """Answer one question; ``Answer.refused`` is True when the sources do not say.

        ``conversation=None`` saves the question and answer to a new conversation,
        ``conversation=<id>`` appends them to that one; by default nothing is saved.
        """
        began = time.perf_counter()
        generation = self.stream(question, history, conversation)
        for _ in generation:
            pass
        answer = generation.answer
        answer.timings["total_s"] = time.perf_counter() - began
        return answer

    def search(self, query: str, k: int = 5) -> list[SearchHit]:
        """The ``k`` passages retrieval finds for ``query``, best first; no LLM involved."""
        query = self._check(query)
        planner = self.planner
        hits = []
        for hit in planner.search(query)[: max(1, k)]:
            meta = hit.node.metadata
            record = planner.records[meta["doc_id"]]
            start, end = meta["start"], meta["end"]
            hits.append(
                SearchHit(
                    source=record.doc_id, title=record.title, text=record.text[start:end],
                    start=start, end=end, score=round(hit.score or 0.0, 6),
                    section=meta.get("section", ""), page=record.page_at(start),
                )
            )  # fmt: skip
        return hits

    def warm_up(self) -> None:
        """Load the models and, for a fixed context, pre-fill it so the first answer is fast.
        With the prompt cache on, the sentence listing a refusal points into is pre-filled
        and saved first (once: later processes restore both), so the first refusal is fast too."""
        fixed = self.planner.fixed
        llm = self.llm
        if fixed and hasattr(llm, "ensure_prefilled"):
            engine = llm.engine
            if engine.prompt_cache and engine.n_parallel == 1:
                listing, _ = numbered_sentences(fixed, self.planner.text_of)
                llm.ensure_prefilled(pick_messages("Ready?", listing), compute=True)
            llm.ensure_prefilled(build_messages("Ready?", fixed), compute=True)

    def _similarity(self, claim: str, quotes: Sequence[str]) -> list[float]:
        """Cosine between a claim and each quote, by the embedder already loaded."""
        vectors = self.embed_model.get_text_embedding_batch([claim, *quotes])
        first = vectors[0]
        norm = sum(x * x for x in first) ** 0.5 or 1.0
        scores = []
        for vector in vectors[1:]:
            other = sum(x * x for x in vector) ** 0.5 or 1.0
            scores.append(sum(a * b for a, b in zip(first, vector)) / (norm * other))
        return scores

    def paragraph_of(self, citation: Citation) -> tuple[str, str, str]:
        """The paragraph around a citation, as ``(before, quote, after)``; just the quote when
        its document changed or left the index since the answer."""
        record = self.store.records().get(citation.source)
        if record is None or record.text[citation.start : citation.end] != citation.quote:
            return "", citation.quote, ""
        return paragraph_around(record.text, citation.start, citation.end)

    # --- managing the corpus folder -----------------------------------------------------------

    def add_documents(self, files: Sequence[str | Path], max_bytes: int | None = None) -> list[str]:
        """Copy files into the corpus folder (names sanitised, types and sizes checked).

        Returns the new document ids; call :meth:`index` to index them. Nothing is written
        outside the corpus folder.
        """
        return self.corpus.add(files, max_bytes)

    def source_file(self, doc_id: str) -> Path:
        """The original file of a document, for opening it; a path that is not a document
        of the corpus folder raises CorpusError."""
        return self.corpus.path_of(doc_id)

    def remove_document(self, doc_id: str) -> Path:
        """Take a document out of the collection: its file moves to ``.trash/`` in the corpus
        folder (never deleted), and its chunks leave the index. Returns the file's new path."""
        moved = self.corpus.trash(doc_id)
        self.index()
        return moved


def _set_torch_threads(n: int) -> None:
    """Torch's intra-op threads, when torch is in use (a custom embedder may not need it)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


_REFERS_BACK = re.compile(
    r"\b(he|him|his|she|her|hers|they|them|their|it|its|this|that|these|those|there|then|"
    r"same|also|else|other)\b|^\s*(and|but|what about|how about)\b",
    re.IGNORECASE,
)
