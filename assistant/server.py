"""One web process for people and programs: ``assistant serve`` (and ``assistant ui``).

Routes, all over one :class:`assistant.Assistant` (one index, one engine):

* ``/`` the Gradio UI, and ``/source/<id>`` the cited files it links to;
* ``/v1`` an OpenAI-compatible chat API whose replies add ``citations`` and ``refused``;
* ``/api`` the facade as JSON: ask, search, documents, health;
* ``/mcp`` the MCP tools (streamable HTTP; :mod:`assistant.mcp_tools`).

Nothing here decides an answer: each route translates a request into one facade call.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from .api import Assistant
from .errors import (
    AssistantError,
    BusyError,
    CorpusError,
    IndexDamagedError,
    LLMUnavailableError,
    ModelError,
    NotFoundError,
    QuestionError,
)
from .results import Answer
from .ui import CSS, SOURCE_ROUTE, build_app

log = logging.getLogger(__name__)
MODEL_ID = "assistant"
PROGRAM_PREFIXES = ("/v1", "/api", "/mcp")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without a key."""
    if not is_loopback(host) and not api_key:
        raise AssistantError(
            f"refusing to listen on {host} without an API key: set ASSISTANT_API_KEY (clients "
            "then send Authorization: Bearer <key>), or listen on 127.0.0.1"
        )


# --- errors -----------------------------------------------------------------------------------


def _status_of(exc: AssistantError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (QuestionError, CorpusError)):
        return 400
    if isinstance(exc, (BusyError, ModelError, LLMUnavailableError, IndexDamagedError)):
        return 503
    return 500


def error_body(message: str, kind: str, code: str | None = None) -> dict:
    """OpenAI's error JSON."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def error_response(exc: AssistantError):

    status = _status_of(exc)
    kind = "invalid_request_error" if status < 500 else "server_error"
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, BusyError) else None
    return JSONResponse(error_body(str(exc), kind, type(exc).__name__), status, headers=headers)


# --- access -----------------------------------------------------------------------------------


class Guard:
    """ASGI middleware in front of everything.

    * With a key set, programs (``/v1``, ``/api``, ``/mcp``) send ``Authorization: Bearer
      <key>``; a browser gets a password prompt for the UI and files (HTTP Basic, any user
      name, the key as password), so nothing is open without it.
    * A web page of another site may not call the programs' routes (its browser says so in
      ``Origin``) unless ``ASSISTANT_CORS_ORIGINS`` lists it: a page could otherwise make the
      browser of someone running the server on loopback upload or delete documents.
    """

    def __init__(self, app, api_key: str | None, origins: list[str]):
        self.app = app
        self.api_key = api_key
        self.origins = origins

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        refusal = None
        if self.api_key and not self._has_key(scope["path"], headers):
            refusal = self._unauthorized(scope["path"])
        elif _is_program(scope["path"]) and not self._origin_allowed(headers):
            message = (
                "requests from another site's web page are refused: list its origin in "
                "ASSISTANT_CORS_ORIGINS to allow them"
            )
            refusal = JSONResponse(error_body(message, "invalid_request_error"), 403)
        if refusal is not None:
            return await refusal(scope, receive, send)
        await self.app(scope, receive, send)

    def _unauthorized(self, path: str) -> JSONResponse:
        program = _is_program(path)
        message = (
            "missing or wrong API key: send Authorization: Bearer <key>, the server's "
            "ASSISTANT_API_KEY"
        )
        return JSONResponse(
            error_body(message, "invalid_request_error", "invalid_api_key"),
            status_code=401,
            headers={"WWW-Authenticate": "Bearer" if program else 'Basic realm="assistant"'},
        )

    def _has_key(self, path: str, headers: dict) -> bool:
        given = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(credentials.strip(), self.api_key)
        if scheme.lower() == "basic" and not _is_program(path):
            try:
                password = base64.b64decode(credentials).decode().partition(":")[2]
            except ValueError:
                return False
            return hmac.compare_digest(password, self.api_key)
        return False

    def _origin_allowed(self, headers: dict) -> bool:
        origin = headers.get(b"origin", b"").decode("latin-1")
        if not origin:
            return True  # not a browser page of another site
        host = headers.get(b"host", b"").decode("latin-1")
        return origin.split("://", 1)[-1] == host or origin in self.origins


def _is_program(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROGRAM_PREFIXES)


# --- the OpenAI-compatible API ------------------------------------------------------------------


def _text_of(content: Any) -> str:
    """A message's text: a string, or OpenAI's list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def question_and_history(messages: list[dict]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user/assistant turns are its history."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if not users:
        raise QuestionError("no user message: send the question as a message with role 'user'")
    last = users[-1]
    history: list[tuple[str, str]] = []
    pending: str | None = None
    for message in messages[:last]:
        role, text = message.get("role"), _text_of(message.get("content"))
        if role == "user":
            pending = text
        elif role == "assistant" and pending is not None:
            history.append((pending, text))
            pending = None
    return _text_of(messages[last].get("content")), history


def citations_json(answer: Answer) -> list[dict]:
    keys = ("source", "title", "quote", "start", "end", "page")
    return [{k: getattr(c, k) for k in keys} for c in answer.citations]


def completion(answer: Answer, completion_id: str, created: int) -> dict:
    u = answer.usage
    prompt = u.prompt_tokens + u.cached_tokens
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": u.completion_tokens,
            "total_tokens": prompt + u.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": u.cached_tokens},
        },
        "citations": citations_json(answer),
        "refused": answer.refused,
    }


def _chunk(completion_id: str, created: int, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def completion_events(generation, completion_id: str, created: int, request=None):
    """Server-sent events of one answer. The content is the *verified* answer, sent once it
    is checked: no unverified sentence reaches a program. While the model writes, a comment
    line per token keeps the connection checked, so a client that goes away stops the model
    at the next token and frees its slot."""
    import json

    from starlette.concurrency import run_in_threadpool

    def event(data: dict) -> str:
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    pieces = iter(generation)
    try:
        yield event(_chunk(completion_id, created, {"role": "assistant", "content": ""}))
        while await run_in_threadpool(next, pieces, None) is not None:
            # Writing to a closed connection does not fail under every server: ask.
            if request is not None and await request.is_disconnected():
                log.info("the client left: stopping its answer")
                return
            yield ": writing\n\n"
        answer = generation.answer
        if answer is None:
            return
        yield event(_chunk(completion_id, created, {"content": answer.text}))
        final = _chunk(completion_id, created, {}, finish="stop")
        final.update(citations=citations_json(answer), refused=answer.refused)
        yield event(final)
        yield "data: [DONE]\n\n"
    finally:
        generation.cancel()


# --- the app ----------------------------------------------------------------------------------


def create_app(bot: Assistant, *, programs: bool = True, host: str = "127.0.0.1"):
    """The FastAPI app: UI and files, and with ``programs`` the ``/v1``, ``/api`` and
    ``/mcp`` routes. Access and CORS follow ``bot.settings``."""
    import gradio as gr

    settings = bot.settings
    mcp = None
    if programs:
        from .mcp_tools import build_mcp

        mcp = build_mcp(bot)
        mcp_app = mcp.streamable_http_app(streamable_http_path="/mcp", host=host)

    app = FastAPI(
        title="Assistant",
        description="Answers from your documents, with verified citations.",
        lifespan=(lambda _: mcp.session_manager.run()) if mcp else None,
        docs_url="/api/docs" if programs else None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if programs else None,
    )

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, exc: AssistantError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "body"
        message = f"invalid request: {where}: {first.get('msg', 'malformed')}"
        return JSONResponse(error_body(message, "invalid_request_error"), status_code=400)

    @app.get(SOURCE_ROUTE + "{doc_id:path}", include_in_schema=False)
    def source(doc_id: str):
        try:
            path = bot.source_file(doc_id)
        except AssistantError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        # A saved web page is shown, never run, on this app's origin.
        headers = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
        media = "text/plain; charset=utf-8" if path.suffix.lower() in (".txt", ".md") else None
        return FileResponse(
            path, media_type=media, headers=headers, content_disposition_type="inline"
        )

    if programs:
        _add_program_routes(app, bot)
        app.router.routes.extend(r for r in mcp_app.routes if getattr(r, "path", "") == "/mcp")

    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    app.add_middleware(Guard, api_key=settings.api_key, origins=origins)
    if origins:  # outside the guard: a preflight carries no key
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["*"]
        )

    blocks = build_app(bot)
    blocks.queue(default_concurrency_limit=max(4, settings.n_parallel))
    return gr.mount_gradio_app(
        app, blocks, path="/", css=CSS, theme=gr.themes.Soft(),
        max_file_size=settings.max_upload_bytes, show_error=True,
    )  # fmt: skip


def _add_program_routes(app, bot: Assistant) -> None:

    @app.get("/v1/models")
    def models():
        return {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "local"}],
        }

    @app.post("/v1/chat/completions")
    def chat_completions(request: Request, body: dict = Body(...)):  # noqa: B008
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise QuestionError("'messages' must be a list of {role, content} objects")
        question, history = question_and_history(messages)
        generation = bot.stream(question, history=history)  # errors: before any byte is sent
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if body.get("stream"):
            return StreamingResponse(
                completion_events(generation, completion_id, created, request),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        for _ in generation:
            pass
        return completion(generation.answer, completion_id, created)

    @app.post("/api/ask")
    def ask(body: dict = Body(...)):  # noqa: B008
        """``{"question": "…", "history": [["q", "a"], …]}`` → the Answer as JSON. With
        ``"conversation"`` (an id, or null for a new one) the answer is saved to it."""
        history = [tuple(turn) for turn in body.get("history") or []] or None
        saved = {"conversation": body["conversation"]} if "conversation" in body else {}
        answer = bot.ask(str(body.get("question") or ""), history=history, **saved)
        return {**answer.to_dict(), "timings": answer.timings}

    @app.get("/api/search")
    def search(q: str, k: int = 5):
        """Passages retrieval finds for ``q``, with no LLM call."""
        return {"query": q, "results": [hit.to_dict() for hit in bot.search(q, k)]}

    @app.get("/api/documents")
    def documents():
        return {"documents": [d.to_dict() for d in bot.documents()]}

    @app.post("/api/documents")
    def upload(files: list[UploadFile] = File(...)):  # noqa: B008
        """Add files (same types and size limit as the UI) and index them."""
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for upload in files:
                path = Path(tmp) / Path(upload.filename or "upload").name
                path.write_bytes(upload.file.read())
                paths.append(path)
            added = bot.add_documents(paths)
        report = bot.index()
        return {
            "added": added,
            "skipped": [{"source": s, "reason": r} for s, r in report.skipped],
            "summary": report.summary(),
        }

    @app.delete("/api/documents/{doc_id:path}")
    def delete(doc_id: str):
        """Move the document's file to the corpus folder's trash and drop its chunks."""
        moved = bot.remove_document(doc_id)
        return {"removed": doc_id, "moved_to": str(moved)}

    @app.get("/api/health")
    async def health():
        return {
            "status": "ok",
            "documents": len(bot.documents()),
            "slots": {"total": bot.settings.n_parallel, "busy": bot.busy_slots},
        }


def serve(bot: Assistant, host: str, port: int, programs: bool = True) -> None:
    """Run the app (blocking) until Ctrl-C."""
    import uvicorn

    check_exposure(host, bot.settings.api_key)
    app = create_app(bot, programs=programs, host=host)
    print(f"* Running on http://{host}:{port}/", flush=True)
    # Browsers hold Gradio's event streams open: do not wait on them for long at shutdown.
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
