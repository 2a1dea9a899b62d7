"""Each supported kind of file as text: plain text and Markdown, HTML (trafilatura), PDF
(pypdf) and DOCX (python-docx).

A reader returns :class:`Extracted`: the text, with each heading on a line of its own that
starts with :data:`HEADING_MARK` and its level (``"\\x022 Usage"``), and the metadata the file
gives. :mod:`assistant.ingest` cleans it, takes the marks out and splits it.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from .errors import DocumentError

log = logging.getLogger(__name__)

HEADING_MARK = "\x02"  # starts a heading line, followed by its level and a space, until read
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + (".pdf", ".docx")


@dataclass
class Extracted:
    """A file's text and metadata, as its reader found them."""

    text: str
    title: str = ""
    date: str | None = None
    author: str | None = None
    # Paginated files only: where each page starts in ``text``. Such text is final: it is not
    # cleaned further, so these offsets stay true.
    pages: list[int] | None = None


def extract(data: bytes, suffix: str) -> Extracted:
    """The text of a file's bytes, by its suffix; raises DocumentError saying why not."""
    if suffix == ".pdf":
        return read_pdf(data)
    if suffix == ".docx":
        return read_docx(data)
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 text (bad byte at {exc.start})") from exc
    if suffix in HTML_SUFFIXES:
        return read_html(raw)
    if suffix in (".md", ".markdown"):
        return Extracted(_markdown_to_text(raw))
    return Extracted(raw)


def _heading(level: int, text: str) -> str:
    return f"{HEADING_MARK}{level} {text}"


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


# --- Markdown -------------------------------------------------------------------------------


def _markdown_to_text(raw: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", raw)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links
    text = re.sub(r"^(#{1,6})\s+", lambda m: _heading(len(m[1]), ""), text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"^```.*$", "", text, flags=re.MULTILINE)


# --- HTML -----------------------------------------------------------------------------------

# trafilatura folds all whitespace, also in <pre>; code keeps its lines through this stand-in.
_CODE_NEWLINE = "\u2424"
_PRE = re.compile(r"(<pre\b[^>]*>)(.*?)(</pre>)", re.IGNORECASE | re.DOTALL)
# Ids that name a section after its heading ("menus", "navigation-keys") read to trafilatura
# as page furniture, and it drops the section: content elements lose their ids first.
_CONTENT_ID = re.compile(
    r"(<(?:section|h[1-6]|dt|dd|p|span|code|div class=\"section\")\b[^>]*?)\s+id=\"[^\"]*\"",
    re.IGNORECASE,
)
_BLOCKS = {"head", "p", "list", "item", "table", "row", "quote", "div", "figure"}
# A paragraph that is nothing but links to code (a table cell "os.makedirs()", the term
# "auto" that heads its description in a summary) reads to trafilatura as navigation by its
# link density, and it drops the paragraph, so the description below loses its subject. Such
# links lose their <a> first. Only whole paragraphs of them: unlinking code in longer ones
# changed trafilatura's choices elsewhere and lost whole entries (measured on the Python docs).
_PARAGRAPH = re.compile(r"<p\b[^>]*>.*?</p>", re.IGNORECASE | re.DOTALL)
_LINKED_CODE = re.compile(
    r"<a\b[^>]*>\s*(<code\b[^>]*>(?:(?!</?a\b).)*?</code>)\s*</a>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]+>")


def _unlink_code_only(paragraph: re.Match) -> str:
    text = paragraph[0]
    if _TAG.sub("", _LINKED_CODE.sub("", text)).strip(" \t\r\n,.;:()"):
        return text  # words besides the links: trafilatura reads it as it is
    return _LINKED_CODE.sub(r"\1", text)


def read_html(raw: str) -> Extracted:
    """The page's main text by trafilatura (navigation, cookie banners, comment forms and
    other page furniture left out), with its headings, definition terms and tables."""
    import trafilatura

    raw = _PRE.sub(lambda m: m[1] + m[2].replace("\n", _CODE_NEWLINE) + m[3], raw)
    raw = _CONTENT_ID.sub(r"\1", raw)
    raw = _PARAGRAPH.sub(_unlink_code_only, raw)
    found = trafilatura.bare_extraction(
        raw,
        include_formatting=True,
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        with_metadata=True,
        favor_recall=True,  # reference pages are mostly lists and code, which precision drops
        deduplicate=False,
        config=_trafilatura_config(),
    )
    if found is None or found.body is None:
        return Extracted("")
    lines: list[str] = []
    _html_blocks(found.body, lines, depth=0)
    text = "\n\n".join(line for line in lines if line.strip())
    return Extracted(
        text=text.replace(_CODE_NEWLINE, "\n"),
        title=_tidy(found.title or ""),
        date=found.date or None,
        author=found.author or None,
    )


@lru_cache(maxsize=1)
def _trafilatura_config():
    from trafilatura.settings import use_config

    config = use_config()
    # Below this many characters trafilatura gives up on finding the main text and keeps the
    # whole page, navigation and forms included; a short page has a short main text.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    # Dates from the page's markup (meta tags, <time>, the URL), not from searching its text:
    # that search took a third of the reading time of the Python docs and found only their
    # build date in each page's footer. A dateline at the top of the text is still read.
    config.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
    return config


def _tidy(text: str) -> str:
    """Inline text on one line; the "¶" of Sphinx's heading anchors goes."""
    return re.sub(r"\s+", " ", text).replace("¶", "").strip()


def _html_blocks(element, lines: list[str], depth: int) -> None:
    """Append the blocks of trafilatura's XML ``element`` to ``lines``, one per entry."""
    inline = [element.text or ""]
    for child in element:
        if child.tag in _BLOCKS or (child.tag == "code" and element.tag != "p"):
            lines.append(_tidy("".join(inline)))
            inline = []
            _html_block(child, lines, depth)
        elif child.tag == "lb":
            inline.append("\n")
        else:
            inline.append("".join(child.itertext()))
        inline.append(child.tail or "")
    lines.append(_tidy("".join(inline)))


def _html_block(element, lines: list[str], depth: int) -> None:
    tag, rend = element.tag, element.get("rend") or ""
    if tag == "head":
        level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        lines.append(_heading(level, _tidy("".join(element.itertext()))))
    elif tag == "code" or (tag == "quote" and _CODE_NEWLINE in "".join(element.itertext())):
        lines.append("".join(element.itertext()).strip(_CODE_NEWLINE + " \n"))
    elif tag == "list":
        for item in element:
            _html_item(item, lines, depth + 1)
    elif tag == "item":
        _html_item(element, lines, depth + 1)
    elif tag == "table":
        for row in element.iter("row"):
            cells = [_tidy("".join(cell.itertext())) for cell in row]
            lines.append(" | ".join(c for c in cells if c))
    else:
        _html_blocks(element, lines, depth)


def _html_item(item, lines: list[str], depth: int) -> None:
    rend = item.get("rend") or ""
    if rend.startswith("dt"):  # a defined term heads its definition, below any h1-h6
        lines.append(_heading(6 + depth, _tidy("".join(item.itertext()))))
    elif rend.startswith("dd") or any(child.tag in _BLOCKS for child in item):
        _html_blocks(item, lines, depth)
    else:
        lines.append("- " + _tidy("".join(item.itertext())))


# --- PDF ------------------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.IGNORECASE)


def read_pdf(data: bytes) -> Extracted:
    """A PDF's text layer, page by page, without its running headers and footers, page
    numbers, or the line breaks and hyphens of its layout."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    if not data.strip():
        raise DocumentError("empty PDF file")
    encrypted = "encrypted PDF: save a copy without a password and add that"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(encrypted)
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata or {}
    except (FileNotDecryptedError, DependencyError) as exc:
        raise DocumentError(encrypted) from exc
    # pypdf raises many kinds of error on broken files; each skips the file, with its reason.
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            OSError, RecursionError) as exc:  # fmt: skip
        raise DocumentError(f"damaged PDF ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise DocumentError("PDF with no pages")
    if not any(page.strip() for page in pages):
        raise DocumentError("no text layer (a scanned PDF?); OCR is not supported")
    lines = [_page_lines(p) for p in pages]
    text, starts = _join_pages(_without_boilerplate(lines), _running_lines(lines))
    return Extracted(
        text=text,
        title=_tidy(str(metadata.get("/Title") or "")),
        author=_tidy(str(metadata.get("/Author") or "")) or None,
        pages=starts,
    )


_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)


def _page_lines(page: str) -> list[str]:
    page = page.translate(_LIGATURES)
    return [re.sub(r"\s+", " ", line).strip() for line in page.splitlines()]


def _without_boilerplate(pages: list[list[str]]) -> list[list[str]]:
    """Pages without comment forms, subscribe prompts and share buttons (a printed web page)."""
    out: list[list[str]] = []
    for lines in pages:
        end = next((i for i, line in enumerate(lines) if _END_OF_ARTICLE.match(line)), None)
        out.append([line for line in lines[:end] if not _BOILERPLATE_LINE.match(line)])
        if end is not None:
            break
    return out + [[] for _ in range(len(pages) - len(out))]


def _ends_block(block: str, line: str, following: str, width: int) -> bool:
    """Whether ``block`` (the paragraph being joined, ``line`` its last line on the page)
    ends here rather than wrapping onto ``following``. Ragged or narrow columns leave short
    lines mid-sentence, so a short line is not enough: a paragraph also ends a sentence, and
    a heading (of one line or two) is short, unpunctuated and followed by a capital."""
    if len(line) >= 0.8 * width:
        return False
    if re.search(r"[.!?:;…][\"'”’)\]]*$", line):
        return True
    heading = len(block.split()) <= 20 and block[:1].isupper() and not block.endswith(",")
    return heading and following[:1].isupper()


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Lines printed at the top or bottom of most pages, and nowhere else: headers and
    footers. Digits are masked, so "Page 3 of 9" or a date in a header matches every page."""
    if len(pages) < 2:
        return set()
    at_edges: Counter[str] = Counter()
    inside: set[str] = set()
    for lines in pages:
        kept = [_masked(line) for line in lines if line]
        at_edges.update(set(kept[:3] + kept[-3:]))
        inside.update(kept[3:-3])
    needed = max(2, (len(pages) + 1) // 2)
    return {line for line, n in at_edges.items() if n >= needed and line not in inside}


def _masked(line: str) -> str:
    return re.sub(r"\d+", "#", line)


def _join_pages(pages: list[list[str]], running: set[str]) -> tuple[str, list[int]]:
    """One text for all pages, and where each page starts in it. Lines of a paragraph are
    joined, a word hyphenated at a line end is mended, and a sentence that runs onto the next
    page continues there, so it cites the page it starts on. ``running``: header and footer
    lines, digits masked."""
    kept_pages = []
    for lines in pages:
        kept = [line for line in lines if line]
        edge = set(range(3)) | set(range(len(kept) - 3, len(kept)))
        kept_pages.append([
            line
            for i, line in enumerate(kept)
            if not (i in edge and (_masked(line) in running or _PAGE_NUMBER.match(line)))
        ])  # fmt: skip
    widths = sorted(len(line) for kept in kept_pages for line in kept)
    width = widths[int(0.8 * (len(widths) - 1))] if widths else 0
    out = ""
    last = ""
    starts: list[int] = []
    for kept in kept_pages:
        for n, line in enumerate(kept):
            if not out:
                out = line
            elif re.search(r"[^\W\d_]-$", last) and line[:1].islower():
                out = out[:-1] + line  # "exam-" + "ple"
            else:
                block = out[out.rfind("\n") + 1 :]
                out += ("\n" if _ends_block(block, last, line, width) else " ") + line
            if n == 0:
                starts.append(len(out) - len(line))
            last = line
        if not kept:
            starts.append(len(out))
    return out, starts


# --- DOCX -----------------------------------------------------------------------------------


def read_docx(data: bytes) -> Extracted:
    """A Word file's paragraphs in order, its headings marked and its tables as rows."""
    import zipfile

    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError

    if not data.strip():
        raise DocumentError("empty DOCX file")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE: encrypted Office files
        raise DocumentError(
            "encrypted or old-format (.doc) Word file: save it as .docx without a password"
        )
    try:
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"damaged DOCX ({type(exc).__name__}: {exc})") from exc
    lines: list[str] = []
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table
            for row in block.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells
                lines.append(" | ".join(c for c in cells if c))
            continue
        text = _tidy(block.text)
        style = (block.style.name if block.style is not None else "") or ""
        level = re.fullmatch(r"Heading (\d)", style)
        if style == "Title":
            lines.append(_heading(1, text))
        elif level:
            lines.append(_heading(int(level[1]) + 1, text))
        else:
            lines.append(text)
    props = document.core_properties
    return Extracted(
        text="\n\n".join(line for line in lines if line.strip()),
        title=_tidy(props.title or ""),
        # No date: the file's created date is often its template's, not the document's.
        author=_tidy(props.author or "") or None,
    )
