"""Shared fakes: a deterministic embedder and a canned LLM, so unit tests run in seconds."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # any attempt to reach a hub fails the tests

from llama_index.core.base.embeddings.base import BaseEmbedding  # noqa: E402
from llama_index.core.base.llms.types import (  # noqa: E402
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.llms.custom import CustomLLM  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
ARTICLE_A = "000_5302f8b4374acc24.txt"
ARTICLE_B = "001_d4563561c63a4494.txt"
# Questions about the bundled corpus with words every right answer holds (real-model tests).
QUESTIONS = [
    ("Who co-chaired the strategic dialogue?", ["Wang Yi", "Dar"]),
    ("Where will the next round of the Strategic Dialogue be held?", ["Islamabad"]),
    ("Which port's development will the two sides prioritise?", ["Gwadar"]),
    ("On which date were the foreign ministers' talks in Beijing co-chaired?", ["January 4"]),
]


class HashEmbedding(BaseEmbedding):
    """Bag of hashed words: texts sharing words get similar vectors. Deterministic."""

    dim: int = 64

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = sum(v * v for v in vec) ** 0.5 or 1.0
        return [v / norm for v in vec]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)


class CannedLLM(CustomLLM):
    """Replies with ``reply(messages)``; records every prompt it was sent."""

    reply: Callable[[Sequence[ChatMessage]], str] = lambda messages: "The sources do not say."
    prompts: list = []

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True)

    def chat(self, messages, **kwargs: Any) -> ChatResponse:
        self.prompts.append(list(messages))
        text = self.reply(messages)
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

    def stream_chat(self, messages, **kwargs: Any):
        self.prompts.append(list(messages))
        text = self.reply(messages)

        def gen():
            so_far = ""
            for piece in re.findall(r"\S+\s*", text):
                so_far += piece
                yield ChatResponse(
                    message=ChatMessage(role=MessageRole.ASSISTANT, content=so_far), delta=piece
                )

        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.reply([ChatMessage(content=prompt)]))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
        yield self.complete(prompt)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def make_assistant(tmp_path, corpus):
    """Build an Assistant over a temp corpus and index, with fakes unless told otherwise."""
    from assistant import Assistant

    def make(reply=None, corpus_dir: Path | None = None, **kwargs):
        llm = CannedLLM(reply=reply) if reply else CannedLLM()
        llm.prompts = []
        return Assistant(
            corpus=corpus_dir or corpus,
            index_dir=tmp_path / "index",
            llm=kwargs.pop("llm", llm),
            embed_model=kwargs.pop("embed_model", HashEmbedding()),
            **kwargs,
        )

    return make
