"""Gradio web UI: chat with streamed, cited answers, a sources panel, and a documents tab.

Only presentation lives here; every answer, rewrite and index change goes through
:class:`assistant.Assistant`.
"""

from __future__ import annotations

import html
import re
import socket
import tempfile
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
.source .stale { color: #b45309; font-size: 0.85em; margin-bottom: 4px; }
"""

_MARKER = re.compile(r"\[(\d+)\]")
STALE = {  # how a saved citation whose source moved on reads
    "changed": "The source has changed since this answer; the quote as it was:",
    "removed": "Source removed: the document is no longer in the collection.",
}
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
        meta = " · ".join(
            html.escape(part) for part in (citation.locator, citation.date or "") if part
        )
        gone = STALE.get(citation.status)
        if gone:  # the saved quote, never whatever now sits at its old offsets
            link = ""
            body = (
                f'<div class="stale">{gone}</div><p><mark>{html.escape(citation.quote)}</mark></p>'
            )
        else:
            before, quote, after = bot.paragraph_of(citation)
            link = (
                f' · <a class="open" href="{source_link(citation)}" target="_blank" '
                'rel="noopener">open the original</a>'
            )
            body = (
                f"<p>{html.escape(before)}<mark>{html.escape(quote)}</mark>{html.escape(after)}</p>"
            )
        blocks.append(
            f'<div class="source {citation.status}" id="src-{n}"><div class="head">'
            f'<a href="#src-{n}">[{n}]</a> <b>{html.escape(citation.title)}</b>'
            f'<div class="meta">{meta}{link}</div></div>{body}</div>'
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

    saving = bot.settings.save_conversations
    # Exports are written to one folder, made at the first export and removed when the
    # process ends (Gradio serves a copy of its own): a folder per export would leave every
    # exported conversation behind in /tmp, and one made up front an empty folder for each
    # UI that was stopped with a signal.
    exports: list[tempfile.TemporaryDirectory] = []

    def conversation_choices() -> list[tuple[str, str]]:
        return [(f"{c.title} · {c.updated_at[:16].replace('T', ' ')}", c.id)
                for c in bot.conversations.list()]  # fmt: skip

    def respond(message: str, chat: list, turns: list, cid: str | None):
        chat = list(chat or [])
        turns = list(turns or [])
        try:
            generation = bot.stream(message, history=turns, conversation=cid)
        except AssistantError as exc:
            gr.Warning(str(exc))
            yield chat, message, gr.skip(), gr.skip(), turns, cid, gr.skip()
            return
        chat += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield chat, "", "", gr.skip(), turns, cid, gr.skip()
        for piece in generation:
            chat[-1] = {"role": "assistant", "content": chat[-1]["content"] + piece}
            yield chat, "", gr.skip(), gr.skip(), turns, cid, gr.skip()
        answer = generation.answer
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        note = f"Searched for: {answer.rewritten}" if answer.rewritten else ""
        turns.append((message, answer.text))
        cid = answer.conversation_id or cid
        listed = gr.update(choices=conversation_choices(), value=cid) if saving else gr.skip()
        yield chat, "", note, render_sources(bot, answer), turns, cid, listed

    def open_conversation(cid: str | None):
        """Its messages and the sources of its last answer, as when they were asked."""
        if not cid:
            return [], "", render_sources(bot, None), [], None, ""
        try:
            conversation = bot.conversations.get(cid)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        chat = []
        for m in conversation.messages:
            chat += [{"role": "user", "content": m.question},
                     {"role": "assistant", "content": render_answer(m.answer)}]  # fmt: skip
        last = conversation.messages[-1].answer if conversation.messages else None
        return chat, "", render_sources(bot, last), conversation.history, cid, conversation.title

    def new_conversation():
        return [], "", render_sources(bot, None), [], None, gr.update(value=None), ""

    def rename_conversation(cid: str | None, title: str):
        if not cid:
            gr.Warning("Open a conversation to rename it.")
            return gr.skip()
        bot.conversations.rename(cid, title)
        return gr.update(choices=conversation_choices(), value=cid)

    def delete_conversation(cid: str | None):
        if not cid:
            return (gr.skip(),) * 7
        bot.conversations.delete(cid)
        return (*new_conversation()[:5], gr.update(choices=conversation_choices(), value=None), "")

    def export_conversation(cid: str | None, fmt: str):
        if not cid:
            gr.Warning("Open a conversation to export it.")
            return gr.skip()
        if not exports:
            exports.append(tempfile.TemporaryDirectory(prefix="assistant-export-"))
        out = Path(exports[0].name) / f"conversation-{cid}.{fmt}"
        out.write_text(bot.conversations.export(cid, fmt), encoding="utf-8")
        return gr.update(value=str(out), visible=True)

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
        conversation = gr.State(None)  # the open conversation's id; None: a new one
        with gr.Sidebar(label="Conversations", open=saving, visible=saving, elem_id="sidebar"):
            new = gr.Button("New conversation", elem_id="new-conversation")
            listed = gr.Radio(choices=[], label="Conversations", elem_id="conversations")
            title = gr.Textbox(label="Title", elem_id="conversation-title")
            with gr.Row():
                rename = gr.Button("Rename", size="sm", elem_id="rename")
                forget = gr.Button("Delete", size="sm", variant="stop", elem_id="delete")
            with gr.Row(visible=False) as confirm_row:
                confirm = gr.Button("Delete for good", size="sm", variant="stop",
                                    elem_id="confirm-delete")  # fmt: skip
                keep = gr.Button("Keep it", size="sm", elem_id="keep")
            with gr.Row():
                export_md = gr.Button("Export .md", size="sm", elem_id="export-md")
                export_json = gr.Button("Export .json", size="sm", elem_id="export-json")
            exported = gr.File(label="Export", visible=False, elem_id="exported")
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
            inputs = [box, chatbot, turns, conversation]
            outputs = [chatbot, box, rewritten, sources, turns, conversation, listed]
            box.submit(respond, inputs, outputs)
            send.click(respond, inputs, outputs)
            shown = [chatbot, rewritten, sources, turns, conversation]
            listed.input(open_conversation, [listed], [*shown, title])
            new.click(new_conversation, None, [*shown, listed, title])
            rename.click(rename_conversation, [conversation, title], [listed])
            forget.click(lambda cid: gr.update(visible=bool(cid)), [conversation], [confirm_row])
            keep.click(lambda: gr.update(visible=False), None, [confirm_row])
            confirm.click(delete_conversation, [conversation], [*shown, listed, title]).then(
                lambda: gr.update(visible=False), None, [confirm_row]
            )
            export_md.click(lambda cid: export_conversation(cid, "md"), [conversation], [exported])
            export_json.click(
                lambda cid: export_conversation(cid, "json"), [conversation], [exported]
            )
            app.load(lambda: gr.update(choices=conversation_choices()), None, [listed])
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
