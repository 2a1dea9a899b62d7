"""Read documents, strip page boilerplate, split into sentences and chunks with offsets.

Every offset is into the *cleaned* document text, so
``doc.text[chunk.start:chunk.end] == chunk.text``, and likewise for sentences and quotes.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import CorpusError, DocumentError
from .readers import HEADING_MARK, SUPPORTED_SUFFIXES, clean_text, extract


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
    headings: list[Heading] = field(default_factory=list)
    author: str | None = None
    pages: list[int] = field(default_factory=list)  # where each page starts, paginated files
    size: int | None = None  # the file's, when it was read
    mtime_ns: int | None = None

    def page_at(self, offset: int) -> int | None:
        return page_at(self.pages, offset)


def page_at(pages: list[int], offset: int) -> int | None:
    """The 1-based page holding ``offset``, given where each page starts; None unpaginated."""
    return max(1, bisect_right(pages, offset)) if pages else None


@dataclass(frozen=True)
class Heading:
    """A section heading: its line starts at ``start`` in the document text."""

    start: int
    level: int  # 1 for a page title, 2 for its sections, …
    text: str


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    start: int
    end: int
    text: str
    section: str = ""  # heading path where the chunk starts, "Usage › Options"


# --- metadata ---------------------------------------------------------------------------------

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_DATE = re.compile(
    rf"^(?:(?:{WEEKDAYS}),?\s+)?"
    rf"(?:(?:{MONTHS})\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+(?:{MONTHS}),?\s+\d{{4}}"
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


@lru_cache(maxsize=256)
def document_sentences(text: str) -> tuple[Span, ...]:
    """The sentences of a whole document, split once per process and reused by context
    selection and verification for every question (documents can be long)."""
    return tuple(split_sentences(text))


def sentences_between(text: str, start: int, end: int) -> list[Span]:
    """The document's sentences that overlap ``text[start:end]``, clipped to it."""
    sentences = document_sentences(text)
    first = bisect_right([s.end for s in sentences], start)
    out = []
    for s in sentences[first:]:
        if s.start >= end:
            break
        lo, hi = max(s.start, start), min(s.end, end)
        piece = text[lo:hi]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append(Span(lo + lead, lo + len(piece.rstrip()), piece.strip()))
    return out


def sentence_before(text: str, offset: int, reach: int = 400) -> Span | None:
    """The sentence (or its part) that ends at ``offset``, at most ``reach`` characters back:
    where a sentence that refers back finds its subject. None at the document's start."""
    before = sentences_between(text, max(0, offset - reach), offset)
    return before[-1] if before else None


def _add_span(spans: list[Span], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    start += len(piece) - len(piece.lstrip())
    end = start + len(stripped)
    spans.append(Span(start + offset, end + offset, stripped))


def chunk_document(
    doc: Document,
    max_words: int,
    count_pieces: Callable[[str], int] | None = None,
    max_pieces: int = 256,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_words`` words; long sentences are cut.

    With ``count_pieces`` (the embedder's tokenizer), a chunk, with the title and section
    that join it in the embedding, also stays within the ``max_pieces`` word pieces the
    embedder reads, so every word is embedded (code and identifiers run to many pieces).

    A heading always starts a new chunk, and a chunk more than half full ends at a paragraph
    break rather than in the middle of the next paragraph, so a chunk keeps to one subject.
    """
    heading_levels = {h.start: h.level for h in doc.headings}
    pieces: list[Span] = []
    for sentence in doc.sentences:
        pieces.extend(_cut_long(sentence, max_words))
    sizes = [count_pieces(p.text) for p in pieces] if count_pieces else [0] * len(pieces)
    chunks: list[Chunk] = []
    group: list[Span] = []
    words = used = budget = 0
    for piece, size in zip(pieces, sizes):
        n = len(piece.text.split())
        # Paragraph ends matter in structured documents (with headings); plain articles keep
        # chunks packed by size alone, which measured better on the bundled news articles.
        new_paragraph = (
            bool(group and doc.headings) and "\n\n" in doc.text[group[-1].end : piece.start]
        )
        if group and (
            words + n > max_words
            or used + size > budget
            or heading_levels.get(piece.start, 99) <= 6
            or (piece.start in heading_levels and words >= max_words // 3)
            or (new_paragraph and words > max_words // 2 and words + n > 0.8 * max_words)
        ):
            chunks.append(_make_chunk(doc, group, len(chunks)))
            group, words, used = [], 0, 0
        if not group and count_pieces:
            section = section_path(doc.headings, piece.start, doc.title)
            # [CLS], [SEP], and the "title: …\nsection: …" header LlamaIndex puts first.
            budget = max_pieces - 4 - count_pieces(f"title: {doc.title}\nsection: {section}")
        if count_pieces and size > budget:
            for part in _cut_by_pieces(piece, budget, count_pieces):
                if group:
                    chunks.append(_make_chunk(doc, group, len(chunks)))
                group, words, used = [part], len(part.text.split()), budget
            continue
        group.append(piece)
        words += n
        used += size
    if group:
        chunks.append(_make_chunk(doc, group, len(chunks)))
    return chunks


def section_path(headings: list[Heading], position: int, title: str = "") -> str:
    """The headings in force at ``position``, outermost first ("Usage › Options"); the page
    title is left out, since it is shown on its own."""
    path: list[Heading] = []
    for heading in headings:
        if heading.start > position:
            break
        path = [h for h in path if h.level < heading.level] + [heading]
    names = [h.text for h in path if h.text != title]
    return " › ".join(names)


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


def _cut_by_pieces(span: Span, budget: int, count_pieces: Callable[[str], int]) -> list[Span]:
    """``span`` in runs of whole words of at most ``budget`` word pieces each."""
    out: list[Span] = []
    first = last = None
    used = 0
    for word in re.finditer(r"\S+", span.text):
        size = count_pieces(word.group())
        if first is not None and used + size > budget:
            out.append(Span(span.start + first, span.start + last, span.text[first:last]))
            first, used = None, 0
        first = word.start() if first is None else first
        last, used = word.end(), used + size
    if first is not None:
        out.append(Span(span.start + first, span.start + last, span.text[first:last]))
    return out


def _make_chunk(doc: Document, group: list[Span], position: int) -> Chunk:
    start, end = group[0].start, group[-1].end
    text = doc.text[start:end]
    digest = hashlib.sha1(f"{doc.doc_id}\0{start}\0{text}".encode()).hexdigest()[:12]
    section = section_path(doc.headings, start, doc.title)
    return Chunk(f"{doc.doc_id}#{position}-{digest}", doc.doc_id, start, end, text, section)


def take_headings(text: str) -> tuple[str, list[Heading]]:
    """Remove the heading marks from ``text`` and return where each heading line starts."""
    out: list[str] = []
    headings: list[Heading] = []
    length = 0
    for line in text.split("\n"):
        if line.startswith(HEADING_MARK):
            level, _, line = line[1:].partition(" ")
            line = line.strip()
            if line:
                headings.append(Heading(length, int(level or 1), line))
        out.append(line)
        length += len(line) + 1
    text = "\n".join(out)
    lead = len(text) - len(text.lstrip())
    headings = [Heading(h.start - lead, h.level, h.text) for h in headings if h.start >= lead]
    return text.strip(), headings


# --- reading files ---------------------------------------------------------------------------


def read_document(path: Path, root: Path, max_bytes: int = 20_000_000) -> Document:
    """Read and clean one file; raises DocumentError with a reason a person can act on."""
    doc_id = path.relative_to(root).as_posix()
    try:
        stat = path.stat()
        size = stat.st_size
        if size > max_bytes:
            raise DocumentError(f"larger than {max_bytes:,} bytes ({size:,})")
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot be read ({exc.strerror or exc})") from exc
    found = extract(data, path.suffix.lower())
    if found.pages is None:
        text, headings = take_headings(clean_text(found.text))
    else:
        text, headings = found.text, []  # paginated text is final: its page offsets hold
    if not text.strip():
        raise DocumentError("no text left after cleaning")
    title, date = extract_title_and_date(text, fallback=found.title or path.stem)
    if headings and headings[0].level == 1:
        title = headings[0].text
    elif _names_something(found.title):
        title = found.title
    return Document(
        doc_id=doc_id,
        text=text,
        title=title,
        date=date or found.date,
        sha256=hashlib.sha256(data).hexdigest(),
        sentences=split_sentences(text),
        headings=headings,
        author=found.author,
        pages=found.pages or [],
        size=size,
        mtime_ns=stat.st_mtime_ns,
    )


def _names_something(title: str) -> bool:
    """A title from a file's metadata is often only a file name ("draft3.docx", "scan_0042",
    "Microsoft Word - notes"); the document's own first line says more then."""
    return (
        " " in title.strip()
        and not re.search(r"\.(?:docx?|pdf|html?|txt|md)$", title, re.IGNORECASE)
        and not title.startswith("Microsoft ")
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
