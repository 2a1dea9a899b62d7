"""The assistant's tools for agents, over MCP (the official ``mcp`` SDK): ``ask``, ``search``
and ``list_documents``. Served over streamable HTTP at ``/mcp`` by ``assistant serve`` and
over stdio by ``assistant mcp``."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations at run time.
# This module is imported only when MCP is served, so importing the SDK here costs nothing else.
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent

from .api import Assistant
from .results import Answer

INSTRUCTIONS = (
    "Answers questions from the user's own document collection. `ask` answers with numbered "
    "citations whose quotes are checked against the documents, and says when the documents "
    "do not hold the answer; `search` returns matching passages without writing an answer."
)


def answer_text(answer: Answer) -> str:
    """The answer with its numbered sources and their quotes, as a person reads it."""
    lines = [answer.text]
    if answer.citations:
        lines.append("\nSources:")
        for n, c in enumerate(answer.citations, 1):
            lines.append(f"[{n}] {c.title} ({c.locator}): “{c.quote}”")
    return "\n".join(lines)


def build_mcp(bot: Assistant):
    """An MCP server whose tools call ``bot``."""
    level = bot.settings.log_level.upper()
    server = MCPServer("assistant", instructions=INSTRUCTIONS, log_level=level)

    def result(text: str, structured: dict[str, Any]) -> CallToolResult:
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=structured
        )

    @server.tool()
    async def ask(question: str) -> CallToolResult:
        """Answer a question from the documents, with numbered, verified citations (source
        file, quote, character offsets, page); or say that the documents do not say."""
        answer = await anyio.to_thread.run_sync(bot.ask, question)
        return result(answer_text(answer), answer.to_dict())

    @server.tool()
    async def search(query: str, k: int = 5) -> CallToolResult:
        """Passages of the documents that match a query, best first, with their source,
        title, section, offsets and text. No answer is written."""
        hits = await anyio.to_thread.run_sync(lambda: bot.search(query, k))
        text = "\n\n".join(
            f"[{n}] {h.title} ({h.source}, chars {h.start}-{h.end})\n{h.text}"
            for n, h in enumerate(hits, 1)
        )
        return result(text or "No passage matches.", {"results": [h.to_dict() for h in hits]})

    @server.tool()
    async def list_documents() -> CallToolResult:
        """The documents in the collection: id (file path), title, date and size in chunks."""
        documents = [d.to_dict() for d in bot.documents()]
        text = "\n".join(f"{d['id']}: {d['title']}" for d in documents)
        return result(text or "The collection is empty.", {"documents": documents})

    return server
