"""The in-process llama.cpp engine (xllamacpp) and a LlamaIndex ``LLM`` that drives it."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import secrets
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

from .errors import LLMUnavailableError, ModelError
from .models import sha256_of

_DONE = object()
log = logging.getLogger(__name__)


class LlamaEngine:
    """One loaded GGUF model; thread-safe (llama.cpp's server queue schedules requests)."""

    def __init__(
        self,
        model_path: Path,
        n_threads: int = 2,
        n_ctx: int = 4096,
        n_parallel: int = 1,
        speculative: str = "none",
        listen: tuple[str, int] | None = None,
        flash_attention: str = "off",
        prompt_cache_dir: Path | None = None,
    ):
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError("xllamacpp is not installed: run `make setup`") from exc
        params = xllamacpp.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = n_ctx
        params.n_parallel = n_parallel
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.flash_attn_type = {"auto": -1, "off": 0, "on": 1}[flash_attention]
        params.verbosity = -1  # llama.cpp logs are noise for users of the assistant
        params.warmup = False
        if listen:  # also serve llama.cpp's OpenAI-compatible HTTP API
            params.hostnames = [listen[0]]
            params.port = listen[1]
        self._api_key = None
        self.prompt_cache: PromptCache | None = None
        if prompt_cache_dir is not None and not listen:
            # llama.cpp saves and restores slots only over its HTTP API: loopback, with a key.
            prompt_cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            params.slot_save_path = str(prompt_cache_dir) + os.sep
            params.hostnames = ["127.0.0.1"]
            params.port = _free_port()
            self._api_key = secrets.token_urlsafe(24)
            params.api_keys = [self._api_key]
            self.prompt_cache = PromptCache(prompt_cache_dir, self._slot_action)
        if speculative == "ngram":
            # Prompt-lookup drafting: extractive answers copy spans of the sources.
            kind = xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE
            params.speculative.types = [kind]
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_parallel = n_parallel
        self.flash_attention = flash_attention
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:
            raise ModelError(
                f"cannot load the model {model_path} ({exc}): delete it to have it re-assembled, "
                "or point ASSISTANT_MODEL_PATH to a valid GGUF file"
            ) from exc

    @classmethod
    def from_settings(
        cls,
        settings,
        listen: tuple[str, int] | None = None,
        long_prompt: bool | None = None,
    ) -> LlamaEngine:
        """The configured model (assembled and verified on first use) with its knobs.

        ``long_prompt`` (the whole collection is the context) resolves flash attention "auto":
        on this CPU it is slower over a long cached context and faster over short prompts.
        Only a long prompt is worth a prompt cache on disk.
        """
        from .models import ensure_model

        s = settings
        flash = s.flash_attention
        if flash == "auto" and long_prompt is not None:
            flash = "off" if long_prompt else "on"
        cache_dir = None
        if long_prompt and s.prompt_cache:
            cache_dir = s.resolved_model_cache_dir() / "prompt-cache"
        return cls(
            ensure_model(s),
            s.n_threads,
            s.n_ctx,
            s.n_parallel,
            s.speculative,
            listen=listen,
            flash_attention=flash,
            prompt_cache_dir=cache_dir,
        )

    @property
    def address(self) -> str | None:
        """``http://host:port`` when serving HTTP, else None."""
        return self._server.listening_address or None

    def state_key(self, messages: Sequence[ChatMessage]) -> str:
        """Names the KV state of ``messages`` for this model file, build and context size."""
        import xllamacpp

        st = self.model_path.stat()
        identity = [str(self.model_path.resolve()), st.st_size, st.st_mtime_ns, self.n_ctx,
                    self.flash_attention, xllamacpp.__version__, _to_dicts(messages)]  # fmt: skip
        return "prefix-" + hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:24]

    def _slot_action(self, action: str, filename: str) -> dict:
        request = urllib.request.Request(
            f"{self.address}/slots/0?action={action}",
            data=json.dumps({"filename": filename}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self._api_key}",
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        with opener.open(request, timeout=300) as response:
            return json.loads(response.read())

    def chat(self, messages: list[dict], **options: Any) -> dict:
        """One OpenAI-style chat completion; returns the response dict."""
        response = self._server.handle_chat_completions(_request(messages, options, stream=False))
        if not isinstance(response, dict) or "error" in response:
            raise RuntimeError(f"the LLM failed: {response}")
        return response

    def stream_chat(self, messages: list[dict], **options: Any) -> Iterator[dict]:
        """Yield OpenAI-style chunks as llama.cpp produces them. Closing the iterator stops it."""
        chunks: queue.Queue = queue.Queue()
        cancelled = threading.Event()

        def on_chunk(chunk: dict) -> bool:
            chunks.put(chunk)
            return cancelled.is_set()  # True tells llama.cpp to stop generating

        def run() -> None:
            try:
                result = self._server.handle_chat_completions(
                    _request(messages, options, stream=True), on_chunk
                )
                if isinstance(result, dict) and "error" in result:
                    chunks.put(RuntimeError(f"the LLM failed: {result}"))
            except Exception as exc:  # surfaced in the consumer's thread
                chunks.put(exc)
            finally:
                chunks.put(_DONE)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            while (item := chunks.get()) is not _DONE:
                if isinstance(item, Exception):
                    raise item
                if "error" in item:
                    raise RuntimeError(f"the LLM failed: {item['error']}")
                yield item
        finally:
            cancelled.set()


def llm_from_settings(settings, long_prompt: bool = False):
    """The configured LlamaIndex ``LLM``: an OpenAI-compatible server when ``llm_url`` is set,
    else the in-process engine, tuned for a long fixed prompt or short retrieved ones."""
    s = settings
    defaults = {"max_tokens": s.max_answer_tokens, "temperature": s.temperature}
    if s.llm_url:
        server = {"model": s.llm_model, "api_key": s.llm_api_key, "timeout": s.llm_timeout}
        return RemoteLLM(base_url=s.llm_url, **server, **defaults)
    return LlamaCppLLM(LlamaEngine.from_settings(s, long_prompt=long_prompt), **defaults)


class PromptCache:
    """Pre-filled prompts kept on disk, so a new process skips pre-filling a fixed context.

    ``slot_action(action, filename)`` runs llama.cpp's slot "save" or "restore" for files in
    ``directory`` (~50 MB for the bundled corpus). A file is named by its key and the start of
    its own sha256: a damaged or half-written file is deleted, never restored.
    """

    keep = 6  # newest files kept: the answer's and the pointing prefix of a few corpora

    def __init__(self, directory: Path, slot_action: Callable[[str, str], dict]):
        self.directory = directory
        self._slot_action = slot_action

    def restore(self, key: str) -> bool:
        """Load the state saved under ``key``; False when there is none or it is unusable."""
        for path in self.directory.glob(f"{key}-*.bin"):
            try:
                if sha256_of(path)[:16] == path.stem.rsplit("-", 1)[1]:
                    self._slot_action("restore", path.name)
                    os.utime(path)  # recently used: kept by _prune
                    log.info("restored the pre-filled context from %s", path)
                    return True
            except (OSError, ValueError) as exc:  # urllib errors are OSErrors
                log.warning("cannot restore %s (%s); pre-filling instead", path, exc)
            path.unlink(missing_ok=True)  # damaged, or llama.cpp refused it: pre-fill again
        return False

    def save(self, key: str) -> bool:
        """Save the engine's current state under ``key``; False (and no file) on failure."""
        partial = self.directory / f"{key}.{os.getpid()}.partial"
        try:
            self._slot_action("save", partial.name)
            os.replace(partial, self.directory / f"{key}-{sha256_of(partial)[:16]}.bin")
        except (OSError, ValueError) as exc:
            log.warning("cannot save the pre-filled context (%s); it is pre-filled again next "
                        "time", exc)  # fmt: skip
            partial.unlink(missing_ok=True)
            return False
        self._prune()
        return True

    def _prune(self) -> None:
        files = sorted(self.directory.glob("prefix-*.bin"), key=lambda p: p.stat().st_mtime)
        for old in files[: -self.keep]:
            old.unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(messages: list[dict], options: dict, stream: bool) -> dict:
    request = {"messages": messages, "stream": stream, "cache_prompt": True}
    request.update({k: v for k, v in options.items() if v is not None})
    return request


class _ChatLLM(CustomLLM):
    """Completion calls go through chat, so the model's own chat template is always applied."""

    max_tokens: int = 256
    temperature: float = 0.0
    context_window: int = 4096

    def _model_name(self) -> str:
        raise NotImplementedError

    def _options(self, kwargs: dict) -> dict:
        """Generation options of one call: its own, else this LLM's defaults."""
        return {
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "stop": kwargs.get("stop"),
        }

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=self._model_name(),
        )

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)
        return CompletionResponse(text=response.message.content or "", raw=response.raw)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        stream = self.stream_chat([ChatMessage(role=MessageRole.USER, content=prompt)], **kwargs)

        def gen() -> CompletionResponseGen:
            for response in stream:
                yield CompletionResponse(
                    text=response.message.content or "", delta=response.delta, raw=response.raw
                )

        return gen()


class LlamaCppLLM(_ChatLLM):
    """LlamaIndex ``LLM`` over a :class:`LlamaEngine`, so stock LlamaIndex components can use it."""

    _engine: LlamaEngine = PrivateAttr()
    _prefilled: str | None = PrivateAttr(default=None)
    _prefill_lock: Any = PrivateAttr()

    def __init__(self, engine: LlamaEngine, **kwargs: Any):
        kwargs.setdefault("context_window", engine.n_ctx)
        super().__init__(**kwargs)
        self._engine = engine
        self._prefill_lock = threading.Lock()

    def ensure_prefilled(self, messages: Sequence[ChatMessage], compute: bool = True) -> None:
        """Have the engine hold ``messages`` pre-filled, so the next prompt that starts with
        them pre-fills only the rest: restored from the prompt cache on disk when it has
        them, else computed (and saved there). With ``compute=False`` and no prompt cache,
        nothing is done: the next question pre-fills them anyway.

        Nothing is done either when ``messages`` were the last ensured: llama.cpp keeps them
        in its slot, or in its own prompt cache in memory when another prompt moved in. A
        restore from disk replaces the slot's state outright (llama.cpp keeps no copy in
        memory), so switching between two fixed prefixes restores each in turn (~0.1 s).
        """
        cache = self._engine.prompt_cache
        if cache is None and not compute:
            return
        key = self._engine.state_key(messages)
        with self._prefill_lock:
            if self._prefilled == key:
                return
            if not (cache and cache.restore(key)):
                log.info("pre-filling the fixed context")
                self.chat(messages, max_tokens=1)
                if cache:
                    cache.save(key)
            self._prefilled = key

    @property
    def engine(self) -> LlamaEngine:
        """The engine it drives; other LlamaIndex components can share it."""
        return self._engine

    @classmethod
    def class_name(cls) -> str:
        return "LlamaCppLLM"

    def _model_name(self) -> str:
        return self._engine.model_path.name

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        response = self._engine.chat(_to_dicts(messages), **self._options(kwargs))
        text = response["choices"][0]["message"].get("content") or ""
        return ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=response
        )

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return _responses(self._engine.stream_chat(_to_dicts(messages), **self._options(kwargs)))


def _to_dicts(messages: Sequence[ChatMessage]) -> list[dict]:
    return [{"role": m.role.value, "content": m.content or ""} for m in messages]


def _responses(chunks: Iterator[dict]) -> ChatResponseGen:
    """OpenAI-style stream chunks as LlamaIndex responses, each with the text so far."""
    text = ""
    for chunk in chunks:
        choices = chunk.get("choices") or [{}]
        delta = (choices[0].get("delta") or {}).get("content") or ""
        text += delta
        yield ChatResponse(
            message=ChatMessage(role=MessageRole.ASSISTANT, content=text), delta=delta, raw=chunk
        )


class RemoteLLM(_ChatLLM):
    """LlamaIndex ``LLM`` for an OpenAI-compatible server (llama.cpp server, vLLM, Ollama)."""

    base_url: str
    model: str = "default"
    api_key: str | None = None
    timeout: float = 60.0

    @classmethod
    def class_name(cls) -> str:
        return "RemoteLLM"

    def _model_name(self) -> str:
        return self.model

    def _post(self, messages: Sequence[ChatMessage], stream: bool, kwargs: dict):
        import httpx

        # cache_prompt: llama.cpp's server keeps the shared prefix; other servers ignore it.
        body = {"model": self.model, **_request(_to_dicts(messages), self._options(kwargs), stream)}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = self.base_url.rstrip("/") + "/chat/completions"
        client = httpx.Client(timeout=httpx.Timeout(self.timeout))
        try:
            request = client.build_request("POST", url, json=body, headers=headers)
            response = client.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            client.close()
            raise LLMUnavailableError(
                f"the LLM server at {self.base_url} did not answer within {self.timeout:g} s; "
                "check that it is running, or raise ASSISTANT_LLM_TIMEOUT"
            ) from exc
        except httpx.HTTPError as exc:
            client.close()
            raise LLMUnavailableError(
                f"cannot reach the LLM server at {self.base_url} ({exc}); start it or fix "
                "ASSISTANT_LLM_URL"
            ) from exc
        if response.status_code >= 400:
            detail = response.read().decode(errors="replace")[:200]
            client.close()
            raise LLMUnavailableError(
                f"the LLM server at {self.base_url} answered {response.status_code}: {detail}"
            )
        return client, response

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        client, response = self._post(messages, stream=False, kwargs=kwargs)
        try:
            data = response.json()
        finally:
            client.close()
        text = data["choices"][0]["message"].get("content") or ""
        return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text), raw=data)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        import httpx

        client, response = self._post(messages, stream=True, kwargs=kwargs)

        def chunks() -> Iterator[dict]:
            try:
                for line in response.iter_lines():
                    payload = line[5:].strip() if line.startswith("data:") else ""
                    if payload == "[DONE]":
                        break
                    if payload:
                        yield json.loads(payload)
            except httpx.TimeoutException as exc:
                raise LLMUnavailableError(
                    f"the LLM server at {self.base_url} stopped answering for "
                    f"{self.timeout:g} s; check it, or raise ASSISTANT_LLM_TIMEOUT"
                ) from exc
            finally:
                response.close()
                client.close()

        return _responses(chunks())
