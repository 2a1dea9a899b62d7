"""The public facade: :class:`Assistant` answers with :class:`Answer` and :class:`Citation`.

The CLI, the UI, notebooks and the eval suite all go through this class.
"""

from __future__ import annotations

import contextvars
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole

from .answer import (
    MARKER,
    Answer,
    Citation,
    Generation,
    build_messages,
    estimate_tokens,
    fill,
    is_refusal,
    load_prompt,
    sentence_windows,
    stable_passages,
)
from .config import Settings
from .errors import CorpusError, QuestionError
from .ingest import SUPPORTED_SUFFIXES
from .store import DocRecord, Store, SyncReport

__all__ = ["Assistant", "Answer", "Citation"]


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
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from installed packages only
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.settings = settings or Settings()
        if corpus is not None:
            self.settings.corpus_dir = Path(corpus)
        if index_dir is not None:
            self.settings.index_dir = Path(index_dir)
        self.corpus_dir = self.settings.resolved_corpus_dir()
        self._llm = llm
        self._embed_model = embed_model
        self._lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._retriever = None
        self._fixed: list | None = None  # the whole-collection context, when it fits
        self._primed: list | None = None  # the fixed context the engine holds pre-filled
        self._prime_lock = threading.Lock()
        self.store = Store(
            self.settings.resolved_index_dir(),
            embed_model=None,  # set lazily: opening an index needs no embedder
            collection=self.settings.collection,
            chroma_url=self.settings.chroma_url,
            chunk_words=self.settings.chunk_words,
        )
        self.last_sync: SyncReport | None = None
        if update_index:
            self.index(progress=progress)

    # --- components, loaded once and on first use -----------------------------------------

    @property
    def embed_model(self):
        with self._lock:
            if self._embed_model is None:
                from llama_index.embeddings.huggingface import HuggingFaceEmbedding

                from .models import embed_model_dir

                # Before loading: no OpenMP threads of torch's in this thread (see index()).
                _set_torch_threads(self.settings.query_embed_threads)
                self._embed_model = HuggingFaceEmbedding(
                    model_name=str(embed_model_dir(self.settings)), device="cpu"
                )
            return self._embed_model

    @property
    def llm(self):
        """The LlamaIndex ``LLM`` in use (the in-process llama.cpp engine by default)."""
        fixed = None
        if self._llm is None and not self.settings.llm_url:
            _, fixed = self._retrieval()  # the prompt's length tunes the engine
        with self._lock:
            if self._llm is None and self.settings.llm_url:
                from .llm import RemoteLLM

                s = self.settings
                self._llm = RemoteLLM(
                    base_url=s.llm_url,
                    model=s.llm_model,
                    api_key=s.llm_api_key,
                    timeout=s.llm_timeout,
                    max_tokens=s.max_answer_tokens,
                    temperature=s.temperature,
                )
            if self._llm is None:
                from .llm import LlamaCppLLM, LlamaEngine

                s = self.settings
                engine = LlamaEngine.from_settings(s, long_prompt=bool(fixed))
                self._llm = LlamaCppLLM(
                    engine, max_tokens=s.max_answer_tokens, temperature=s.temperature
                )
            return self._llm

    def _retrieval(self):
        """The retriever and, when the whole collection fits the prompt budget, the fixed
        context of all its passages; both computed once per index state."""
        with self._lock:
            if self._retriever is None:
                from .retrieve import build_retriever

                nodes = self.store.nodes()
                fits = sum(estimate_tokens(n.get_content()) for n in nodes) <= (
                    self.settings.full_context_tokens
                )
                self._fixed = stable_passages(nodes) if fits else None
                self._retriever = build_retriever(
                    self.store, self._embed_model, self.settings.top_k
                )
            return self._retriever, self._fixed

    # --- indexing -----------------------------------------------------------------------------

    def index(
        self, rebuild: bool = False, progress: Callable[[int, int, str], None] | None = None
    ) -> SyncReport:
        """Add new, replace changed and drop deleted documents of the corpus folder."""
        self.store.embed_model = self.embed_model
        stop = threading.Event()

        def step(done: int, total: int, doc_id: str) -> None:
            if stop.is_set():
                raise KeyboardInterrupt  # between documents: the batches written are kept
            if progress:
                progress(done, total, doc_id)

        def sync() -> SyncReport:
            # Embedding many chunks is worth all the threads; a question is not.
            _set_torch_threads(self.settings.n_threads)
            try:
                return self.store.sync(
                    self.corpus_dir,
                    rebuild=rebuild,
                    progress=step,
                    max_file_bytes=self.settings.max_file_bytes,
                )
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
                    self._retriever = None  # rebuilt on the next question, over the new chunks
        self.last_sync = report
        return report

    def documents(self) -> list[DocRecord]:
        """The indexed documents, sorted by id."""
        return list(self.store.records().values())

    # --- answering ----------------------------------------------------------------------------

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
            return question
        return rewritten

    def stream(self, question: str, history: Sequence[tuple[str, str]] | None = None) -> Generation:
        """Iterate for text pieces as they are generated; ``.answer`` holds the final Answer.

        With ``history`` (earlier ``(question, answer)`` pairs) a follow-up such as "And who
        hosted him?" is first rewritten into a standalone question (``Answer.rewritten``).
        """
        asked = self._check(question)
        self.embed_model  # noqa: B018  (load outside the timings)
        retriever, fixed = self._retrieval()
        began = time.perf_counter()
        question = self.rewrite(asked, history)
        timings = {"rewrite_s": time.perf_counter() - began} if question != asked else {}
        began = time.perf_counter()
        retrieved = retriever.retrieve(question)
        timings["retrieve_s"] = time.perf_counter() - began
        if fixed:
            # The same context for every question, so llama.cpp's prompt cache is always reused.
            self._prime(fixed, compute=False)
            passages = fixed
        else:
            # Only the sentences around each hit: a short prompt pre-fills fast on a CPU.
            term_weights = getattr(retriever, "term_weights", None)  # any retriever will do
            windows = sentence_windows(
                question,
                [hit.node for hit in retrieved],
                self._doc_text,
                self.settings.context_tokens,
                weights=term_weights(question) if term_weights else None,
            )
            passages = stable_passages(windows)
        return Generation(
            question, passages, retrieved, self.llm, self._doc_text, self.settings, timings, asked
        )

    def warm_up(self) -> None:
        """Load the models and, for a fixed context, pre-fill it so the first answer is fast."""
        self.embed_model  # noqa: B018
        _, fixed = self._retrieval()
        if fixed:
            self._prime(fixed, compute=True)
        else:
            self.llm  # noqa: B018

    def _prime(self, fixed: list, compute: bool) -> None:
        """Have the engine hold the fixed context pre-filled: restored from the prompt cache,
        else computed (always when ``compute``; when there is a cache, to save it there)."""
        engine = getattr(self.llm, "engine", None)
        cache = getattr(engine, "prompt_cache", None)
        if cache is None and not compute:
            return  # the first question pre-fills it
        with self._prime_lock:
            if self._primed is fixed:
                return
            messages = build_messages("Ready?", fixed)
            key = engine.state_key(messages) if cache else ""
            if not (cache and cache.restore(key)):
                self.llm.chat(messages, max_tokens=1)
                if cache:
                    cache.save(key)
            self._primed = fixed

    def ask(self, question: str, history: Sequence[tuple[str, str]] | None = None) -> Answer:
        """Answer one question; ``Answer.refused`` is True when the sources do not say."""
        began = time.perf_counter()
        generation = self.stream(question, history)
        for _ in generation:
            pass
        answer = generation.answer
        answer.timings["total_s"] = time.perf_counter() - began
        return answer

    def _doc_text(self, doc_id: str) -> str:
        return self.store.records()[doc_id].text

    def paragraph_of(self, citation: Citation) -> tuple[str, str, str]:
        """The paragraph around a citation, as ``(before, quote, after)``."""
        text = self._doc_text(citation.source)
        start = text.rfind("\n", 0, citation.start) + 1
        end = text.find("\n", citation.end)
        end = len(text) if end < 0 else end
        return text[start : citation.start], citation.quote, text[citation.end : end]

    # --- managing the corpus folder -----------------------------------------------------------

    def add_documents(self, files: Sequence[str | Path], max_bytes: int = 5_000_000) -> list[str]:
        """Copy files into the corpus folder (names sanitised, types and sizes checked).

        Returns the new document ids; call :meth:`index` to index them. Nothing is written
        outside the corpus folder.
        """
        added = []
        for source in map(Path, files):
            name = safe_file_name(source.name)
            if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                raise CorpusError(
                    f"{source.name}: unsupported type; use one of {', '.join(SUPPORTED_SUFFIXES)}"
                )
            size = source.stat().st_size
            if size > max_bytes:
                raise CorpusError(f"{source.name}: {size:,} bytes is over the {max_bytes:,} limit")
            target = self.corpus_dir / name
            if target.exists() and target.read_bytes() != source.read_bytes():
                target = self.corpus_dir / f"{target.stem}-{int(time.time())}{target.suffix}"
            shutil.copyfile(source, target)
            added.append(target.relative_to(self.corpus_dir).as_posix())
        return added

    def remove_document(self, doc_id: str) -> Path:
        """Take a document out of the collection: its file moves to ``.trash/`` in the corpus
        folder (never deleted), and its chunks leave the index. Returns the file's new path."""
        source = (self.corpus_dir / doc_id).resolve()
        if self.corpus_dir not in source.parents or not source.is_file():
            raise CorpusError(f"no document {doc_id!r} in {self.corpus_dir}")
        trash = self.corpus_dir / ".trash" / f"{int(time.time())}-{source.name}"
        trash.parent.mkdir(exist_ok=True)
        source.rename(trash)
        self.index()
        return trash


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


def safe_file_name(name: str) -> str:
    """A plain file name: no folders, no leading dots, only letters, digits, ``._-``."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip("._") or "document.txt"
    return name[:120]
