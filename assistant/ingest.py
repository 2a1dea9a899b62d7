"""Read documents, strip page boilerplate, split into sentences and chunks with offsets.

Every offset is into the *cleaned* document text, so
``doc.text[chunk.start:chunk.end] == chunk.text``, and likewise for sentences and quotes.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


class DocumentError(Exception):
    """A document that cannot be read; the message says why."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass
class Document:
    doc_id: str  # path relative to the corpus root, with forward slashes
    text: str  # cleaned text; all offsets point into it
    title: str
    date: str | None
    sha256: str  # of the raw file bytes
    sentences: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str


# --- cleaning -------------------------------------------------------------------------------

# Lines that are page furniture wherever they appear.
_BOILERPLATE_LINE = re.compile(
    r"^\s*(?:"
    r"leave a reply|leave a comment|please enter your (?:comment|name|email)[^\n]*"
    r"|subscribe to get the latest posts[^\n]*|discover more from [^\n]*"
    r"|(?:subscribe|sign up) (?:now|to our newsletter|for our newsletter)[^\n]*"
    r"|share this(?: article)?:?|click to share[^\n]*|advertisement|related (?:posts|articles):?"
    r"|you (?:may|might) also like:?|follow us on [^\n]*|cancel reply|post comment"
    r"|save my name, email[^\n]*"
    r")\s*$",
    re.IGNORECASE,
)
# Lines after which nothing is article text (a comment form closes a page).
_END_OF_ARTICLE = re.compile(r"^\s*(?:leave a reply|leave a comment)\b", re.IGNORECASE)


def _is_short_name_line(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 4 and not re.search(r"[.!?:;,]$", line.strip())


def clean_text(raw: str) -> str:
    """Normalise whitespace and remove comment forms, subscribe prompts and author-bio blurbs."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.replace("\ufeff", "")
    lines = [line.rstrip() for line in text.split("\n")]

    for i, line in enumerate(lines):
        if _END_OF_ARTICLE.match(line):
            lines = lines[:i]
            break
    lines = [line for line in lines if not _BOILERPLATE_LINE.match(line)]

    # An author box at the end: a short name line printed twice, then a bio paragraph.
    non_empty = [i for i, line in enumerate(lines) if line.strip()]
    for a, b in zip(non_empty, non_empty[1:]):
        if (
            lines[a].strip() == lines[b].strip()
            and _is_short_name_line(lines[a])
            and len(non_empty) - non_empty.index(b) <= 3
        ):
            lines = lines[:a]
            break

    cleaned = "\n".join(lines)
    cleaned = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", cleaned)  # at most one blank line
    return cleaned.strip()


# --- metadata ---------------------------------------------------------------------------------

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"^(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),?\s+)?"
    rf"(?:(?:{_MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS}),?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}})$"
)


def extract_title_and_date(text: str, fallback: str) -> tuple[str, str | None]:
    """Title: the first short heading-like line; date: a dateline among the first lines."""
    date = None
    title = None
    for line in [ln.strip() for ln in text.split("\n") if ln.strip()][:5]:
        heading = line.lstrip("#").strip()
        if date is None and _DATE.match(heading):
            date = heading
            continue
        # Only the first line after a dateline can be the title: later short lines are subheads.
        if len(heading.split()) <= 20 and not heading.endswith((".", "!", "?")):
            title = heading
        break
    if title is None:
        first = split_sentences(text)[:1]
        words = first[0].text.split() if first else fallback.split()
        title = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    return title, date


# --- sentences and chunks ------------------------------------------------------------------

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sen", "rep", "gov",
    "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "approx", "fig",
}  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+)")


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Split text into sentences; every line is at least its own sentence (lists, headings)."""
    spans: list[Span] = []
    for line_match in re.finditer(r"[^\n]+", text):
        line, base = line_match.group(), line_match.start()
        begin = 0
        for end_match in _SENTENCE_END.finditer(line):
            end = end_match.end()
            word = re.search(r"([\w.]+)[.!?…]+[\"'”’)\]]*$", line[begin:end])
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            nxt = line[end:].lstrip()
            if nxt and not (nxt[0].isupper() or nxt[0].isdigit() or nxt[0] in "\"'“‘(["):
                continue
            _add_span(spans, text, base + begin, base + end, offset)
            begin = end
        _add_span(spans, text, base + begin, base + len(line), offset)
    return spans


def _add_span(spans: list[Span], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    start += len(piece) - len(piece.lstrip())
    end = start + len(stripped)
    spans.append(Span(start + offset, end + offset, stripped))


def chunk_document(doc: Document, max_words: int) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_words`` words; long sentences are cut."""
    pieces: list[Span] = []
    for sentence in doc.sentences:
        pieces.extend(_cut_long(sentence, max_words))
    chunks: list[Chunk] = []
    group: list[Span] = []
    words = 0
    for piece in pieces:
        n = len(piece.text.split())
        if group and words + n > max_words:
            chunks.append(_make_chunk(doc, group, len(chunks)))
            group, words = [], 0
        group.append(piece)
        words += n
    if group:
        chunks.append(_make_chunk(doc, group, len(chunks)))
    return chunks


def _cut_long(span: Span, max_words: int) -> list[Span]:
    words = list(re.finditer(r"\S+", span.text))
    if len(words) <= max_words:
        return [span]
    out = []
    for i in range(0, len(words), max_words):
        part = words[i : i + max_words]
        s, e = part[0].start(), part[-1].end()
        out.append(Span(span.start + s, span.start + e, span.text[s:e]))
    return out


def _make_chunk(doc: Document, group: list[Span], position: int) -> Chunk:
    start, end = group[0].start, group[-1].end
    text = doc.text[start:end]
    digest = hashlib.sha1(f"{doc.doc_id}\0{start}\0{text}".encode()).hexdigest()[:12]
    return Chunk(f"{doc.doc_id}#{position}-{digest}", doc.doc_id, start, end, text)


# --- reading files ---------------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, block elements on their own lines."""

    _SKIP = {"script", "style", "nav", "footer", "header", "form", "aside", "noscript", "svg"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
              "article", "blockquote", "pre", "title", "ul", "ol", "table"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._tag = ""

    def handle_starttag(self, tag, attrs):
        self._tag = tag
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "li" and not self._skip:
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._tag == "title" and not self.title:
            self.title = data.strip()
            return
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html_to_text(raw: str) -> str:
    parser = _HTMLText()
    parser.feed(raw)
    text = html.unescape("".join(parser.parts))
    return "\n".join(line.strip() for line in text.split("\n"))


def _markdown_to_text(raw: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", raw)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"^```.*$", "", text, flags=re.MULTILINE)


def read_document(path: Path, root: Path, max_bytes: int = 20_000_000) -> Document:
    """Read and clean one file; raises DocumentError with a reason a person can act on."""
    doc_id = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(f"larger than {max_bytes:,} bytes ({size:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot be read ({exc.strerror or exc})") from exc
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text (bad byte at {exc.start})") from exc
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        raw = _html_to_text(raw)
    elif suffix in (".md", ".markdown"):
        raw = _markdown_to_text(raw)
    text = clean_text(raw)
    if not text:
        raise DocumentError("no text left after cleaning")
    title, date = extract_title_and_date(text, fallback=path.stem)
    return Document(
        doc_id=doc_id,
        text=text,
        title=title,
        date=date,
        sha256=hashlib.sha256(data).hexdigest(),
        sentences=split_sentences(text),
    )


def list_corpus_files(root: Path) -> list[Path]:
    """Supported files below ``root``, sorted, skipping hidden files and folders."""
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root}; pass an existing folder with --corpus")
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
