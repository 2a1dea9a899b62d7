"""Gradio web UI: chat with streamed, cited answers, a sources panel, and a documents tab.

Only presentation lives here; every answer, rewrite and index change goes through
:class:`assistant.Assistant`.
"""

from __future__ import annotations

import html
import re
import socket
from pathlib import Path
from urllib.parse import quote

from .api import Assistant
from .errors import AssistantError
from .ingest import SUPPORTED_SUFFIXES
from .results import Answer

CSS = """
.cite { font-weight: 600; text-decoration: none; padding: 0 1px; }
.unsupported { text-decoration: underline dotted #b45309; background: #fef3c7; }
.refusal { color: #6b7280; font-style: italic; border-left: 3px solid #d1d5db; padding-left: 8px; }
.rewritten, .rewritten * { color: #6b7280 !important; font-size: 0.85em !important; }
.source { border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 10px; margin-bottom: 8px; }
.source:target, .source.selected { border-color: #2563eb; box-shadow: 0 0 0 2px #bfdbfe; }
.source .head { font-size: 0.9em; margin-bottom: 4px; }
.source .meta { color: #6b7280; font-size: 0.8em; }
.source mark { background: #fde68a; padding: 0 1px; }
"""

_MARKER = re.compile(r"\[(\d+)\]")
SOURCE_ROUTE = "/source/"  # + document id: where assistant.server serves the original file


def render_answer(answer: Answer) -> str:
    """The answer as HTML: markers link to their sources, unverified sentences are marked."""
    if answer.refused:
        return f'<div class="refusal">{html.escape(answer.text)}</div>'
    text = html.escape(answer.text)
    for sentence in answer.unsupported:
        escaped = html.escape(sentence)
        text = text.replace(
            escaped,
            f'<span class="unsupported" title="No source supports this sentence">{escaped}</span>',
            1,
        )
    return _MARKER.sub(r'<a class="cite" href="#src-\1" title="Show source \1">[\1]</a>', text)


def render_sources(bot: Assistant, answer: Answer | None) -> str:
    """Each citation with its article's title, file and date, the quote highlighted in place."""
    if answer is None:
        return '<div class="meta">Sources of the latest answer appear here.</div>'
    if not answer.citations:
        return '<div class="meta">No source supports an answer to this question.</div>'
    blocks = []
    for n, citation in enumerate(answer.citations, 1):
        before, quote, after = bot.paragraph_of(citation)
        meta = " · ".join(
            html.escape(part) for part in (citation.locator, citation.date or "") if part
        )
        blocks.append(
            f'<div class="source" id="src-{n}"><div class="head">'
            f'<a href="#src-{n}">[{n}]</a> <b>{html.escape(citation.title)}</b>'
            f'<div class="meta">{meta} · <a class="open" href="{source_link(citation)}" '
            'target="_blank" rel="noopener">open the original</a></div></div>'
            f"<p>{html.escape(before)}<mark>{html.escape(quote)}</mark>{html.escape(after)}</p>"
            "</div>"
        )
    return "\n".join(blocks)


def source_link(citation) -> str:
    """Where the UI serves a cited file: at its page, for a PDF."""
    url = SOURCE_ROUTE + quote(citation.source)
    return f"{url}#page={citation.page}" if citation.page else url


def documents_table(bot: Assistant) -> list[list]:
    return [[d.title, d.doc_id, len(d.chunks), d.indexed_at] for d in bot.documents()]


def check_port(host: str, port: int) -> None:
    """Fail early, in one line, when the port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise AssistantError(
                f"port {port} on {host} is in use ({exc.strerror}): pass --port with a free "
                f"one, e.g. --port {port + 1}"
            ) from exc


def build_app(bot: Assistant):
    """The Gradio Blocks app for one Assistant; per-browser state only, nothing shared."""
    import gradio as gr

    def respond(message: str, chat: list, turns: list):
        chat = list(chat or [])
        turns = list(turns or [])
        try:
            generation = bot.stream(message, history=turns)
        except AssistantError as exc:
            gr.Warning(str(exc))
            yield chat, message, gr.skip(), gr.skip(), turns
            return
        chat += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield chat, "", "", gr.skip(), turns
        for piece in generation:
            chat[-1] = {"role": "assistant", "content": chat[-1]["content"] + piece}
            yield chat, "", gr.skip(), gr.skip(), turns
        answer = generation.answer
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        note = f"Searched for: {answer.rewritten}" if answer.rewritten else ""
        turns.append((message, answer.text))
        yield chat, "", note, render_sources(bot, answer), turns

    def add_files(files, progress=gr.Progress()):  # noqa: B008  (Gradio's way to get a bar)
        if not files:
            return "Choose files to add first.", documents_table(bot), gr.skip()
        try:
            added = bot.add_documents([Path(getattr(f, "name", f)) for f in files])
            report = bot.index(progress=lambda done, total, name: progress((done, total), name))
        except AssistantError as exc:
            return f"Not added: {exc}", documents_table(bot), gr.skip()
        skipped = "".join(f"\nSkipped {name}: {why}" for name, why in report.skipped)
        ids = [d.doc_id for d in bot.documents()]
        status = f"Added {', '.join(added)}. {report.summary()}{skipped}"
        return status, documents_table(bot), gr.update(choices=ids, value=None)

    def remove(doc_id):
        if not doc_id:
            return "Pick a document to remove.", documents_table(bot), gr.skip()
        try:
            moved = bot.remove_document(doc_id)
        except AssistantError as exc:
            return str(exc), documents_table(bot), gr.skip()
        ids = [d.doc_id for d in bot.documents()]
        status = f"Removed {doc_id} from the index; its file is kept at {moved}."
        return status, documents_table(bot), gr.update(choices=ids, value=None)

    with gr.Blocks(title="Assistant") as app:
        turns = gr.State([])
        gr.Markdown("### Ask the documents\nAnswers cite their sources; click a [n] to see it.")
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", height=480, elem_id="chat")
                    rewritten = gr.Markdown("", elem_classes="rewritten", elem_id="rewritten")
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="Ask a question about the documents…",
                            show_label=False,
                            scale=5,
                            elem_id="question",
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                with gr.Column(scale=2):
                    gr.Markdown("**Sources**")
                    sources = gr.HTML(render_sources(bot, None), elem_id="sources")
            outputs = [chatbot, box, rewritten, sources, turns]
            box.submit(respond, [box, chatbot, turns], outputs)
            send.click(respond, [box, chatbot, turns], outputs)
        with gr.Tab("Documents"):
            status = gr.Markdown("")
            upload = gr.File(
                label="Add .txt, .md, .html, .pdf or .docx files",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                elem_id="upload",
            )
            add = gr.Button("Add and index", elem_id="add")
            table = gr.Dataframe(
                value=documents_table(bot),
                headers=["title", "file", "chunks", "indexed at"],
                interactive=False,
                elem_id="documents",
            )
            with gr.Row():
                pick = gr.Dropdown(
                    choices=[d.doc_id for d in bot.documents()], label="Document", scale=3
                )
                delete = gr.Button("Remove from collection", variant="stop", scale=1)
            add.click(add_files, [upload], [status, table, pick])
            delete.click(remove, [pick], [status, table, pick])
    return app
