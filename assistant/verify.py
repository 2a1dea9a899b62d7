"""Citation verification: every answer sentence must be held by quotes from the passages.

A sentence is supported when a few sentences of the passages (with their headings) hold at
least ``threshold`` of its content words, compared stemmed, with numbers as digits and
compounds as their parts, and hold *every* number and name it states. A sentence whose words
are paraphrased further is still supported when the embedder finds it close in meaning to
one quote that holds part of its words and all its numbers and names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cached_property, lru_cache

from .ingest import MONTHS, WEEKDAYS, Span, sentence_before, sentences_between, split_sentences
from .prompts import Passage
from .results import Citation
from .retrieve import NUMBER_WORDS, ORDINALS, RADIX, SCIENTIFIC, normalize, tokenize

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_REFUSAL = re.compile(
    r"(?:sources?|articles?|documents?|context|text|passages?|documentation)\s+"
    r"(?:do|does|did)\s*(?:not|n't)\s+"
    r"(?:say|mention|contain|provide|specify|state|include|give|describe|explain)"
    r"|\bnot\s+(?:mentioned|specified|provided|stated|given|included|available)\b"
    r"|\bno (?:information|mention|details?)\b|\bcannot (?:answer|find|be determined)\b"
    r"|\bdo(?:es)? not know\b|\bunable to (?:find|determine|answer)\b"
    r"|\b(?:do|does|did) not (?:say|react|comment|mention|specify) (?:anything|on|about)\b",
    re.IGNORECASE,
)
# Numbers (with their digits as written) and names: capitalised words inside a sentence and
# code identifiers (``lru_cache``, ``os.path``, ``len()``).
_NUMBER = re.compile(  # not the 3 of python3; "1e-09" whole
    rf"(?<![A-Za-z_\d.])(?:{SCIENTIFIC}|{RADIX}|\d+(?:[.,:]\d+)*)", re.IGNORECASE
)
_CODE = re.compile(r"[._]|\(\)")  # which of the names below are code
_KEYWORD_ARGUMENT = re.compile(r"(?<![\w.=])[A-Za-z_]\w*=[\w.'\"-]+")
_DUNDER = re.compile(r"\b__[a-z]\w*?__\b")
_NAME = re.compile(
    r"(?<![\w.])(?:[A-Za-z_]\w*(?:\.\w+)+|\w*_\w+|\w+\(\))"  # code: os.path, lru_cache, len()
    r"|(?<=[^.!?\s] )[A-Z]\w+(?:\s+[A-Z]\w+)*"  # capitalised inside a sentence: Ishaq Dar
    r"|^[A-Z]\w+(?:\s+[A-Z]\w+)+"  # two or more at its start: Wang Yi
)

# Words opening a sentence, capitalised there, before a name: "Since Python 3.3, …".
_OPENERS = frozenset(
    "since although though unless until whereas while once whenever because despite unlike "
    "like given following starting beginning per via if".split()
)

Similarity = Callable[[str, Sequence[str]], list[float]]


@dataclass(frozen=True)
class SupportRules:
    """How much a claim needs from its quotes to count as supported."""

    threshold: float = 0.5  # share of the claim's words (weighted) its quotes must hold
    similarity: Similarity | None = None  # claim vs quotes, for paraphrases
    min_similarity: float = 0.6
    # What the collection's documents are about, by their titles (``timeit`` from "timeit —
    # Measure execution time…"), tokenized: named by a claim, they are held like names.
    names: frozenset[str] = frozenset()
    # The words nearly every document of a large collection uses ("python" in Python's
    # documentation): a name among them tells no document from another, so no quote need
    # hold it ("Python 3.10" is answered by "Changed in version 3.10").
    common: frozenset[str] = frozenset()
    # The question's words no document of a large collection uses ("onexc", a later Python's
    # rmtree callback): a claim restating one rests on nothing the sources say.
    unheard: frozenset[str] = frozenset()
    # The question's words few documents of a large collection use: what it asks about.
    rare: frozenset[str] = frozenset()


def title_names(titles: Iterable[str]) -> frozenset[str]:
    """The lowercase identifiers reference pages are titled by ("timeit — Measure execution
    time of small code snippets"), tokenized: names a quote must hold as it must "Wang Yi", though
    nothing capitalises them."""
    found = (_TITLE_NAME.match(title) for title in titles)
    # A name joining words ("shared_memory", "py_compile") is one name, not a name "share" or
    # "compile" wherever those words stand: "When two records share the same sort key…".
    parts = (tokenize(part) for m in found if m for part in m[1].split("."))
    return frozenset(" ".join(tokens) for tokens in parts if tokens)


_TITLE_NAME = re.compile(r"^([a-z_][\w.]*) [—–] ")


def is_refusal(text: str, question: str = "") -> bool:
    """Whether ``text`` declines to answer. Wording it takes from the ``question`` is no
    refusal: "When unicodedata.lookup cannot find the name it is given, a KeyError is
    raised" answers "What happens when unicodedata.lookup cannot find the name …?"."""
    asked = " ".join(question.lower().split())
    return not text.strip() or any(
        " ".join(m[0].lower().split()) not in asked for m in _REFUSAL_AND_WHAT.finditer(text)
    )


# A refusal's words and the two after them: "cannot find the name" (asked) is not "cannot find
# the answer".
_REFUSAL_AND_WHAT = re.compile(rf"(?:{_REFUSAL.pattern})(?:[ \t]+[\w'’]+){{0,2}}", re.IGNORECASE)


def parse_markers(sentence: str, highest: int | None = None) -> tuple[str, list[int]]:
    """Split ``"Paris is big [1][2, 3]."`` into ``("Paris is big.", [1, 2, 3])``.

    Brackets holding a number outside 1..``highest`` are text, not markers: "[0, 1]".
    """
    numbers: list[int] = []

    def take(match: re.Match) -> str:
        found = [int(n) for n in match.group(1).split(",")]
        if not all(1 <= n <= (highest or n) for n in found):
            return match.group(0)
        numbers.extend(found)
        return ""

    claim = MARKER.sub(take, sentence).strip()
    claim = re.sub(r"\s+([.,;:!?])", r"\1", claim)
    return claim, list(dict.fromkeys(numbers))


def facts(text: str) -> set[str]:
    """The numbers and names ``text`` states, normalised as :func:`tokenize` does."""
    found = _numbers(text)
    # An argument as code ("preferred=True", "new=2") is held only as written, name and value.
    found |= {" ".join(tokenize(arg)) for arg in _KEYWORD_ARGUMENT.findall(text)}
    for name in _NAME.findall(text.strip()):
        words = name.split()
        while len(words) > 1 and words[0].lower() in _OPENERS:
            words = words[1:]  # "Since Python 3.3, …" names Python, not "Since Python"
        found.add(" ".join(tokenize(" ".join(words))))  # a name of several words is found whole
    found.discard("")
    for word in re.findall(r"[a-z]+", text.lower()):
        number = normalize(word)
        if number.isdigit() and word not in _LOOSE_NUMBERS:
            found.add(number)
    if _ONCE.search(text):
        found.add("once")  # a count of times: not "one argument"
    return found


def _numbers(text: str) -> set[str]:
    """The numbers ``text`` writes in digits, without thousands separators."""
    return {normalize(n.lower()) for n in _NUMBER.findall(text)}


# Number words that more often mean "a", "the pair" or an order than a count to check.
_LOOSE_NUMBERS = ("one", "two", "once", "first", "second", "hundred", "thousand", "million")
# "once" counts where it ends its clause ("calls readline once."), not where it opens one
# ("Once the file is open, …") or says "at once"; a stopword otherwise.
_ONCE = re.compile(r"(?<!\bat )\bonce(?=\s*(?:[,.;:!?)]|$))", re.IGNORECASE)
# "No," answering a yes/no question negates nothing after it.
_NEGATION = re.compile(r"\b(?:not|no(?!\s*[,.;:!])|never|cannot)\b|n['’]t\b", re.IGNORECASE)


_CLAUSE_END = re.compile(r"[,;:!?]|\.(?!\w)")  # not the dot of "os.path"
_AGENT = re.compile(r"\bby\b", re.IGNORECASE)


def negated_words(text: str, reach: int = 2) -> set[str]:
    """The first ``reach`` content words after each negation, within its clause and before a
    passive's agent: "cannot create an encrypted file" negates ``creat`` and ``encrypt``; "If
    not found, KeyError is raised" negates ``found`` only, "cannot be unpickled by Python
    2.x" ``unpickl`` only."""
    out: set[str] = set()
    for match in _NEGATION.finditer(text):
        clause = _CLAUSE_END.split(text[match.end() :], maxsplit=1)[0]
        clause = _AGENT.split(clause, maxsplit=1)[0]
        following = re.findall(r"[\w'-]+", clause)[: 2 * reach]
        out.update(tokenize(" ".join(following))[:reach])
    return out


def polarity_clash(claim: str, quote: str) -> set[str]:
    """The words the claim and quote share that one of them negates and the other not; none
    when both negate a word they share: "cannot handle input" and "does not transparently
    handle inputs" agree, though their negations reach different words."""
    shared = set(tokenize(claim)) & set(tokenize(quote))
    claimed, quoted = negated_words(claim), negated_words(quote)
    if claimed & quoted & shared:
        return set()
    return (claimed ^ quoted) & shared


def same_polarity(claim: str, quote: str) -> bool:
    """False when a word the claim and quote share is negated in one and not the other."""
    return not polarity_clash(claim, quote)


@dataclass(frozen=True)
class Support:
    passage: Passage
    span: Span
    score: float  # share of the claim's content words this quote and its heading hold


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    span: Span
    words: frozenset[str]  # the sentence's words and its heading's
    runs: tuple[str, str]  # the sentence's and the heading's tokens, space-joined
    heading: str  # the title and section path the sentence is under

    @property
    def entry(self) -> str:
        """The last part of the heading path: the reference entry or section it is under."""
        return self.heading.rsplit("›", 1)[-1].strip()

    def holds(self, fact: str, code: bool = False) -> bool:
        """A one-word fact anywhere; a name of several words as one run of words, or, for
        ``code``, its parts in order along the heading path: "SequenceMatcher(…) › ratio()"
        names ``SequenceMatcher.ratio``; or its first parts there and the rest in the
        sentence."""
        if " " not in fact:
            return fact in self.words
        if any(f" {fact} " in f" {run} " for run in self.runs):
            return True
        if not code:
            return False
        parts, heading = fact.split(), self.runs[1].split()
        if _in_order(parts, heading):
            return True
        # Or its owner along the heading path and the rest a whole name written as code in
        # the sentence: "hmac" › "A new compare_digest() function has been added" names
        # ``hmac.compare_digest``; "functools" › "The lru_cache() decorator … caches values"
        # names no ``functools.cache``.
        return any(
            _in_order(parts[:k], heading) and tuple(parts[k:]) in self.code_written
            for k in range(1, len(parts))
        )

    @cached_property
    def values(self) -> frozenset[str]:
        """The numbers the sentence and its heading give as values: digits or cardinal words,
        a negative one as written ("-1"), and not an order ("First try to return its actual
        length" gives no 1)."""
        text = f"{self.heading} {self.span.text}"
        unsigned = _ORDER_WORD.sub(" ", _SIGNED.sub(" ", text))
        # Also as the claim's are read (_values): "10x" gives a 10 that no token is.
        plain = {t for t in tokenize(unsigned) if t[0].isdigit()} | _numbers(unsigned)
        return frozenset(_negatives(text) | plain)

    @cached_property
    def identifiers(self) -> frozenset[str]:
        """The sentence's identifiers, lowercased ("if", "exist_ok", "fileexistserror")."""
        return frozenset(w.lower() for w in _IDENTIFIER.findall(self.span.text))

    @cached_property
    def code_written(self) -> frozenset[tuple[str, ...]]:
        """The sentence's names written as code (with an underscore, or called), tokenized."""
        called = set(_CALLED.findall(self.span.text))
        return frozenset(
            tuple(tokenize(w))
            for w in _IDENTIFIER.findall(self.span.text)
            if "_" in w or w in called
        )


# A negative number: not the second half of a range ("3-5", "2024–2029") nor an option.
_SIGNED = re.compile(r"(?<![\w.)\]])[-−]\d+(?:\.\d+)?\b")
_ORDER_WORD = re.compile(rf"\b(?:{'|'.join(ORDINALS)})\b", re.IGNORECASE)
_ORDINAL_DIGITS = re.compile(r"\b\d+(?:st|nd|rd|th)\b", re.IGNORECASE)


def _negatives(text: str) -> set[str]:
    """The negative numbers ``text`` writes, normalised and signed: {"-1"}."""
    return {"-" + normalize(n[1:]) for n in _SIGNED.findall(text)}


def _values(claim: str) -> tuple[set[str], set[str]]:
    """The numbers ``claim`` writes in digits as values, not orders ("the 7th round"): those
    without a sign, and the negative ones as written."""
    plain = _numbers(_ORDINAL_DIGITS.sub(" ", _SIGNED.sub(" ", claim)))
    return plain, _negatives(claim)


def _in_order(parts: list[str], tokens: list[str]) -> bool:
    rest = iter(tokens)
    return all(part in rest for part in parts)


def _candidates(passages: list[Passage], text_of: Callable[[str], str]) -> list[_Candidate]:
    """Each sentence of ``passages`` once per heading it is read under, in passage order.

    The passages overlap (a retrieved chunk, the numbered passage joining it to its neighbour,
    the chunks a refusal may point into); a copy under the same heading adds nothing but work,
    and crowds out other sentences where only the first few are tried. One under another
    heading is kept: a joined passage carries its first chunk's section path."""
    out, seen = [], set()
    for passage in passages:
        for span in passage.sentences(text_of):
            heading = passage.heading_at(span.start)
            key = (passage.doc_id, span.start, span.end, heading)
            if key in seen:
                continue
            seen.add(key)
            tokens = tokenize(_without_declaration(span.text))
            tokens += _place_forms(span.text) + (["once"] if _ONCE.search(span.text) else [])
            tokens += _symbol_names(span.text)
            heading_tokens = tokenize(" › ".join(map(_without_declaration, heading.split("›"))))
            runs = (" ".join(tokens), " ".join(heading_tokens))
            out.append(_Candidate(passage, span, frozenset(heading_tokens + tokens), runs, heading))
    return out


# The names of the symbols a sentence writes on their own ("“~” is now included …"), so it
# holds a claim naming them ("quote stopped escaping the tilde"); not the "/" of a path.
_SYMBOL_NAMES = {
    "~": "tilde", "&": "ampersand", "*": "asterisk star", "#": "hash", "%": "percent",
    "^": "caret", "\\": "backslash", "/": "slash", ";": "semicolon", "$": "dollar",
    "+": "plus", "_": "underscore", "|": "pipe",
}  # fmt: skip
_LONE_SYMBOL = re.compile(rf"(?<!\w)[{re.escape(''.join(_SYMBOL_NAMES))}](?!\w)")


def _symbol_names(text: str) -> list[str]:
    """The names, as tokens, of the symbols ``text`` writes apart from any word."""
    return [t for s in set(_LONE_SYMBOL.findall(text)) for t in tokenize(_SYMBOL_NAMES[s])]


# How a place's name and the word for its people or things differ, stemmed: Pakistan and
# Pakistani, India and Indian, Italy and Italian ("itali", "italian"), China and Chinese
# ("china", "chines"), Japan and Japanese.
_DEMONYM_ENDINGS = ("ian", "ese", "an", "es", "i", "n")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{4,}\b")


def _place_forms(text: str) -> list[str]:
    """The other forms of the place names and demonyms ``text`` capitalises, so a quote's
    "Pakistani astronauts" holds a claim's "Pakistan astronauts", and its "China's support"
    a claim's "Chinese support". Forms no word has ("beijingi") are harmless: no claim holds
    them."""
    forms: list[str] = []
    for word in _CAPITALISED.findall(text):
        token = normalize(word.lower())
        place = token[:-1] if token[-1] in "ai" else token
        forms += [place + ending for ending in _DEMONYM_ENDINGS]  # as a place's name
        for ending in _DEMONYM_ENDINGS:  # as a demonym
            base = token[: -len(ending)]
            if token.endswith(ending) and len(base) >= 4:
                forms += [base, base + "a", base + "i"]
    return [f for f in forms if f]


# The words a reference entry's signature opens with say what it declares ("exception
# statistics.StatisticsError", "class zoneinfo.ZoneInfo"), not what it is a kind of: they hold
# no "StatisticsError is a subclass of Exception".
_DECLARES = re.compile(
    r"^(?:(?:class|exception|abstractmethod|classmethod|staticmethod|await|async) )+"
    r"(?=[A-Za-z_]\w*\.)"
)


def is_signature(line: str) -> bool:
    """Whether ``line`` is a reference entry's signature ("gzip.open(filename, mode='rb')")."""
    return bool(_SIGNATURE.match(line.strip()))


def _without_declaration(line: str) -> str:
    """``line`` without the declaring words its signature opens with, if it is one."""
    line = line.strip()
    return _DECLARES.sub("", line) if is_signature(line) else line


# The embedder's cosine at which a quote sharing no word with a question still speaks of what
# it asks: "Who is the CEO of Netflix?" and "Reed Hastings, the company's chief executive,
# said …" 0.42; "Which maritime dispute did Pakistan back China's position on?" and the
# sentence on a ceasefire in Gaza 0.20, "By what means does China want the Kashmir question
# settled?" and the same sentence 0.27.
_ON_THE_SUBJECT = 0.35


def _akin(words: Set[str], others: Set[str]) -> bool:
    """Whether a word of ``words`` is one of ``others`` or, four letters at least, begins
    another: a field "Editor:" says who "edited" ("editor", "edit" stemmed)."""
    return bool(words & others) or any(
        min(len(w), len(o)) >= 4 and (w.startswith(o) or o.startswith(w))
        for w in words
        for o in others
    )


def find_support(
    claim: str,
    passages: list[Passage],
    text_of: Callable[[str], str],
    rules: SupportRules = SupportRules(),
    question: str = "",
    max_quotes: int = 3,
) -> list[Support]:
    """Fewest sentences of ``passages`` that hold the claim's words and all its facts.

    Greedy set cover: take the sentence adding the most uncovered words, up to ``max_quotes``
    (earlier passages win ties), until they hold ``rules.threshold`` of the claim's words.
    Every number and name the claim states must be in the quotes (a name of several words
    whole; one the question names, anywhere in a quote's document), each number near the words
    it stands beside in the claim, and no shared word
    may be negated in one and not the other. Failing the share of words, one quote close in
    meaning (``rules.similarity``) with the same facts and a quarter of the words supports a
    paraphrase. Returns [] when the claim is not supported.
    """
    words = set(tokenize(claim))
    if not words:
        return []
    anchors = set(tokenize(question))
    if rules.unheard & _names_in(question):
        return []  # asked about a name no document uses ("crc64"): nothing answers it
    counted = counted_unit(question, loose=True)
    # What a "how many" question counts is no name it states: "how many times" does not
    # name the time module.
    stated = (facts(question) | (anchors & rules.names)) - rules.common - {counted}
    named = {f for f in stated if not f[0].isdigit()}
    # A name the question states is one wherever the claim puts it: "India did not attend"
    # opens with it, where nothing else marks a single word as a name.
    needed = facts(claim) | (words & rules.names) | {f for f in named if set(f.split()) <= words}
    needed = (needed - rules.common) | (words & rules.unheard)
    asked = stated & needed  # may stand anywhere in a quote's document

    code_facts = code_names(claim)

    # A special method keeps its underscores: "__float__" is not held by "float".
    dunders = set(_DUNDER.findall(claim))

    # A number the claim writes in digits is held as a value: "returns -1" not by "-1"'s
    # digit nor by "First try to return its actual length".
    plain, signed = _values(claim)
    as_values = signed | ((needed & plain) - asked)

    def missing(quotes: list[_Candidate]) -> set[str]:
        return (
            {n for n in as_values if not any(n in q.values for q in quotes)}
            | {
                d
                for d in dunders
                if not any(d in q.span.text or d in q.heading for q in quotes)
                and not (d in question and any(d in text_of(q.passage.doc_id) for q in quotes))
            }
            | {
                f
                for f in needed
                if not any(q.holds(f, code=f in code_facts) for q in quotes)
                and not (
                    f in asked
                    and any(f" {f} " in _document_run(text_of(q.passage.doc_id)) for q in quotes)
                )
            }
        )

    echoed = words & anchors
    # The numbers the claim tells that the question did not: the answer.
    answered = {f for f in needed - stated if f[0].isdigit()}
    # What the question is about: its words less the kind of answer it asks for ("in which
    # year"), and the names it states.
    kind = _ASKS_NUMBER.search(question)
    subject = anchors - set(tokenize(kind["kind"])) if kind else anchors
    asked_code = code_in(question)
    code = code_names(question)
    code_words = {w for name in code for w in name.split()}
    # The parameters the question names: as such or as code, and in so many words only.
    asked_parameters = subject & _as_parameters(question)
    named_parameters = subject & _as_parameters(question, named_only=True)
    # Asked which version or release, a number in a document's title ("What's New In Python
    # 3.3") dates each of its sentences ("The textwrap module has a new indent() function").
    dated_by_title = bool(ASKS_VERSION.search(question))
    quoted = {t for m in _QUOTED.finditer(question) for t in tokenize(m[1])}  # the 'append' action

    def about_the_question(quote: _Candidate) -> bool:
        """A quote giving the answer's numbers speaks of something the question names, in a
        document naming every name it names: "signed on January 4" is not held by "the talks
        were held on January 4", nor the Mersenne Twister's year by "after a year of
        development, in February 1991" from Python's history. The code the question names
        (``gzip.open``) is in the quote or the sentence before it: gzip.open's level is not
        the command line's "the default compression level is 6" further down its page. A
        paper's reference ("… Vol. 8, No. 1, January pp.3–30 1998.") dates the paper: its
        numbers hold only a claim about a publication. Nor does a call's argument in an
        interactive example (">>> token_bytes(16)") tell what the call returns by default.
        Asked since which version, an entry's note dates a parameter the question names only
        if it says so: "New in version 3.8." under "statistics.fmean(data, weights=None)" is
        not when fmean took weights ("Changed in version 3.11: Added support for weights").
        Nor does a note under one entry ("Repr.fillvalue") speak of another entry of its page
        the question names ("Repr.maxlevel"), nor a name it gives ("A UserWarning subclass",
        under GetPassWarning) of what another entry raises ("getpass.getuser")."""
        text = text_of(quote.passage.doc_id)
        said = set(quote.runs[0].split())  # the words of the quote's own sentence
        if asked_code and _speaks_of_other_code(quote, asked_code):
            return False
        if not any(quote.holds(f) for f in answered):
            # One telling a name the question did not speaks of what was asked (see
            # on_the_subject), and any other quote speaks of its own entry too: GetPassWarning's
            # "A UserWarning subclass" is not what getpass.getuser raises, nor untokenize's "If
            # there is no encoding token in the input, it returns a str instead" what
            # detect_encoding returns.
            if any(quote.holds(f) for f in told_names) and not on_the_subject(quote, text):
                return False
            return not _under_another_entry(quote, question, text)
        if _REFERENCE.search(quote.span.text) and not words & set(tokenize(_PUBLISHING)):
            return False
        if any(_only_passed_in(f, quote.span.text) for f in answered):
            return False
        if dated_by_title and quote.span.text.startswith(">>>"):
            # A call in an example dates nothing: What's New 3.5's ">>>
            # os.path.commonprefix(['/usr/lib', '/usr/local/lib'])" sets it beside commonpath.
            return False
        if dated_by_title and not _RETIRED_WORDS.search(claim):
            # "It was deprecated since Python 3.4" is not when anything was added.
            retired = {n for m in _RETIRED.finditer(quote.span.text) for n in _numbers(m[1])}
            if answered & retired:
                return False
        if (
            dated_by_title
            and _RETIRED_WORDS.search(question)
            and not _RETIRED_WORDS.search(f"{quote.heading} {quote.span.text}")
        ):
            # Nor does a note or a What's New line of when it came or changed tell when it was
            # deprecated or removed: "New in version 3.7." under gc.get_freeze_count(), or
            # What's New 3.7's "Additionally, gc.get_freeze_count() can be used …".
            return False
        if dated_by_title and anchors & _COMING and _PORTING.search(quote.heading):
            # A porting note tells how something that was there changed: What's New 3.5's
            # "you can now either add an attribute to a functools.partial() object" is not
            # when partial was added (2.5).
            return False
        releases = set(_POINT_RELEASE.findall(quote.heading)) if dated_by_title else set()
        if (
            releases
            and not answered & releases
            and any(r.startswith(f"{a}.") for r in releases for a in answered)
        ):
            # A section of a point release dates its sentences by that release, not by the
            # page's: "Earlier Python versions allowed using both ; and & …" under "Notable
            # changes in Python 3.6.13" is not of 3.6.
            return False
        if dated_by_title and _parameters_only_headed(quote, subject - code_words):
            # Unless the note says the rest of what was asked: "Changed in version 3.4: Added
            # the POSIX permission check." under "class netrc.netrc([file])" answers since when
            # netrc checks "the file's permissions", a parameter's name as a plain word.
            rest = subject - code_words - _DATING_VERBS - _PARAMETER_WORDS
            if not (rest - _parameters_of(quote.entry)) & said:
                return False
        dated = not _SIGNATURE.match(quote.entry) or VERSION_NOTE.match(quote.span.text)
        if dated_by_title and dated:
            # Nor does a sentence dated by its page's title ("Added the possibility of
            # providing a key function to the APIs in the bisect module", What's New 3.10), or
            # an entry's note, date a parameter of an entry the passages show ("lo" of
            # "bisect.bisect_left(a, x, lo=0, …)", "blocking" of "scheduler.run(blocking=True)")
            # that it does not say.
            if (asked_parameters & (parameters() | _page_parameters(text))) - said:
                return False
        if dated_by_title and named_parameters - said:
            # Nor one named a parameter in so many words ("its strict parameter") that no
            # passage shows: What's New 3.8's "realpath() on Windows now resolves reparse
            # points" does not date realpath's strict (3.10). A note naming parameters dates
            # those: "New in version 3.4: The encodings and errors keyword arguments." is not
            # when FileType took a newline argument.
            if not VERSION_NOTE.match(quote.span.text) or _PARAMETER_WORDS & said:
                return False
        if _under_another_entry(quote, question, text):
            return False
        if dated_by_title and quoted and _BARE_NOTE.match(quote.span.text):
            # In a section of prose, a bare note dates the item it follows: "New in version
            # 3.8." after the 'extend' action's paragraph is not when 'append' came.
            item = _item_before(text, quote.span.start)
            if not _SIGNATURE.match(quote.entry) and quoted - set(tokenize(item)):
                return False
        if dated_by_title and VERSION_NOTE.match(quote.span.text):
            # A version note dates its entry: asked about a detail its entry never mentions
            # ("Since which version does html.escape turn backticks into entities?"), the
            # entry's "New in version 3.2." does not answer. The note's paragraph is the note:
            # "Changed in version 3.7: Moved from RFC 2396 to RFC 3986 … “~” is now included
            # in the set of unreserved characters."
            end = text.find("\n\n", quote.span.end)
            end = len(text) if end < 0 else end
            entry_text = _entry_text(quote, text) + text[quote.span.end : end]
            entry = set(tokenize(entry_text) + _symbol_names(entry_text) + tokenize(quote.heading))
            if (rules.rare & subject) - entry - code_words - _DATING_VERBS:
                return False
            # Asked only since when the entry exists, a note of a change dates something of
            # an entry that was there before: "Changed in version 3.5: The function is now
            # always available …" is not since when time.monotonic exists ("New in version
            # 3.3.").
            if quote.span.text.startswith("Changed") and not (
                subject - code_words - _DATING_VERBS - _BEING_WORDS
            ):
                return False
        if dated_by_title and answered and not answered & said:
            # Dated by its page's title only, a sentence answers for what it and its section
            # say: What's New 3.3's "New bz2.open() function: open a bzip2-compressed file in
            # binary or text mode." is not when bz2.open got its exclusive-creation mode.
            # One rare word of the question may be the sentence's own way of putting it
            # when it says two others, or three in four of the question's words: "guards" for
            # "detecting" recursive calls, where What's New 3.2 says "the reprlib module has a
            # new decorator"; "pick" for "filtering", where What's New 3.7's unittest section
            # says "The new -k command-line option allows filtering tests by a name substring
            # or a Unix shell-like pattern".
            heard = quote.words
            unsaid = (rules.rare & subject) - heard - code_words - _DATING_VERBS
            rest = subject - code_words - _DATING_VERBS - _BEING_WORDS
            if len(unsaid) > 1 or (
                unsaid
                and len(rules.rare & subject & heard) < 2
                and len(rest & heard) * 4 < len(rest) * 3
            ):
                return False
        run = _document_run(text)
        if code:
            near = f" {' '.join(tokenize(_entry_line(quote, text)))} "
            if not all(quote.holds(name, code=True) or f" {name} " in near for name in code):
                return False
        return (not subject or bool(quote.words & subject)) and all(
            f" {name} " in run
            or (name in code and quote.holds(name, code=True))
            or (name in rules.names and quote.holds(name))  # in the page title
            for name in named
        )

    on_subject: dict[int, bool] = {}  # by quote: sound() meets a quote in many sets

    def on_the_subject(quote: _Candidate, text: str) -> bool:
        if id(quote) not in on_subject:
            on_subject[id(quote)] = _speaks_of_the_subject(quote, text)
        return on_subject[id(quote)]

    def _speaks_of_the_subject(quote: _Candidate, text: str) -> bool:
        """A quote telling a name the question did not speaks of what the question asks
        about: its sentence, the one before it in its paragraph, or a heading under its
        document's title shares a word of the question, or it is close in meaning to the
        question. "Pakistan backed China's position on the Gaza dispute" (asked which maritime
        dispute) is not held by the article's sentence on a ceasefire in Gaza: only its title
        says "Pakistan" and "China", and every sentence of the article is under that title.
        Sharing no word, the meaning tells (without the embedder, nothing does): "Reed
        Hastings, the company's chief executive, said …" answers "Who is the CEO of
        Netflix?"."""
        asked_of = subject - rules.common
        if not asked_of:
            return True
        title = set(tokenize(quote.passage.node.metadata.get("title", "")))
        near = set(quote.runs[0].split()) | (set(quote.runs[1].split()) - title)
        before = sentence_before(text, quote.span.start)
        if before and "\n\n" not in text[before.end : quote.span.start]:
            near |= set(tokenize(before.text))
        else:
            before = None
        if _akin(near, asked_of):
            return True
        passage = f"{before.text} {quote.span.text}" if before else quote.span.text
        close = rules.similarity
        return close is not None and close(question, [passage])[0] >= _ON_THE_SUBJECT

    # The numbers and names the claim tells that the question did not ("Beijing will host…":
    # a name that opens the claim too).
    opening = " ".join(w for w in _WORD.findall(claim)[:1] if _is_name(w))
    told = (needed | set(tokenize(opening))) - stated - anchors
    told_names = {f for f in told if not f[0].isdigit()}
    own_words = words - anchors - {w for f in told for w in f.split()}

    def together(quotes: list[_Candidate]) -> bool:
        """A quote apart from the others (another passage, not the sentence beside one) that
        tells a number or name the question did not must also hold two of the claim's own
        words: "Beijing will host the next round" is not held by a headline "Beijing hosts
        the talks" and, paragraphs later, "the next round will be held in Islamabad"."""
        if len(quotes) < 2:
            return True
        for quote in quotes:
            apart = not any(
                other.passage.node.node_id == quote.passage.node.node_id
                or _beside(other, quote, text_of)
                for other in quotes
                if other is not quote
            )
            tells = any(quote.holds(f) for f in told)
            if apart and tells and len(own_words & quote.words) < 2:
                return False
        return True

    def borrows_nothing(quotes: list[_Candidate]) -> bool:
        """Held by quotes of several documents, what the claim adds to the question comes
        from documents naming what the question names: "The comments are ignored by the
        syntax when a netrc object is written out with __repr__" is not held by netrc's
        "(This discards comments …)" and the language reference's "Comments are ignored by
        the syntax", a page that never names netrc."""
        if not named or len({q.passage.doc_id for q in quotes}) < 2:
            return True
        for quote in quotes:
            run = _document_run(text_of(quote.passage.doc_id))
            if all(f" {n} " in run for n in named):
                continue
            others = {w for q in quotes if q is not quote for w in q.words}
            if (adds & quote.words) - others:
                return False
        return True

    def told_with_context(quotes: list[_Candidate]) -> bool:
        """Held by quotes of several documents, each number or name the claim tells comes
        from a quote holding more of the claim than that: "You get a KeyError if you assign a
        list to a slice of an array" is not held by What's New's sentence on assigning lists to
        slices of arrays and, on the built-in exceptions' page, a bare "exception KeyError"."""
        if len({q.passage.doc_id for q in quotes}) < 2:
            return True
        return all(
            any((words & q.words) - set(fact.split()) for q in quotes if q.holds(fact))
            for fact in told
            if any(q.holds(fact) for q in quotes)
        )

    added = words - anchors  # what the claim says beyond the question
    adds = added - {"yes"}  # its content: "Yes," tells a polarity, which no word of a quote holds
    # Names a heading may give for a sentence that leaves them out: the subject's (the
    # question states it), a page's, and code ("heapq.heappushpop(heap, item)" over "Push the
    # value item onto the heap"). Not another word that happens to be capitalised in the
    # claim: a section "Exceptions" holds no "StatisticsError is a subclass of Exception".
    named_words = {
        w
        for f in needed
        if not f[0].isdigit() and (f in stated or f in code_facts or f in rules.names)
        for w in f.split()
    }

    def rests_on_sentences(quotes: list[_Candidate]) -> bool:
        """The quotes' sentences, not only their headings, hold what the claim adds to the
        question: "The relationship will remain centered on strategic dialogue and
        cooperation" is not held by a title "… as strategic dialogue expands …" over a
        sentence on space cooperation. A heading may still name the subject a sentence
        leaves out ("New in version 3.9." under "@functools.cache"), or the name answering
        "which one" ("heapq.heappushpop(heap, item)" over "Push the value item onto the heap")."""
        said = {w for q in quotes for w in q.runs[0].split()}
        headed = {w for q in quotes for w in q.runs[1].split()}
        if adds and not adds & (said | headed):
            return False  # all it adds to the question is in no quote: "… is preferred"
        held = (added & said) - headed  # not the article's names, which its title gives too
        from_headings = (added & headed) - said - named_words  # not the subject's name
        if dated_by_title:
            from_headings -= {
                w for q in quotes for w in tokenize(q.passage.node.metadata.get("title", ""))
            }
        return len(held) >= 2 or len(from_headings) <= len(held)

    modules = anchors & rules.names  # the pages' subjects the question names

    def about_its_module(quote: _Candidate) -> bool:
        """A quote whose heading ends in another page's subject ("What's New In Python 3.6
        › Improved Modules › struct"), holding none the question names, speaks of that one:
        struct's 'e' format for half floats is not the array module's."""
        last = tokenize(quote.entry)
        other = len(last) == 1 and last[0] in rules.names and last[0] not in anchors
        return not (modules and other and not quote.words & modules)

    picks = bool(qualifiers_of(claim))  # the quotes' contexts are read only for such a claim

    def sound(quotes: list[_Candidate]) -> bool:
        texts = [q.span.text for q in quotes]
        if denied and not denied & set().union(*(q.words for q in quotes)):
            return False
        return (
            not missing(quotes)
            and together(quotes)
            and told_with_context(quotes)
            and borrows_nothing(quotes)
            and rests_on_sentences(quotes)
            and (
                numbers_keep_their_words(claim, texts, counted=counted)
                or numbers_keep_their_words(
                    claim, texts, counted=counted, before=[_before(q, text_of) for q in quotes]
                )
            )
            and numbers_keep_their_names(claim, texts)
            and keeps_the_things_numbered(question, claim, texts)
            and keeps_the_alternatives(claim, texts)
            and keeps_the_bound(question, claim, texts)
            and (
                not picks
                or keeps_its_qualifiers(claim, [_with_context(q, text_of) for q in quotes])
            )
            and all(same_polarity(claim, q.span.text) or id(q) in mirroring for q in quotes)
            and all(same_subjects(claim, text) for text in texts)
            and all(keeps_what_calls_give(claim, text) for text in texts)
            and all(keeps_its_affiliations(claim, text) for text in texts)
            and all(about_the_question(q) for q in quotes)
            and all(about_its_module(q) for q in quotes)
        )

    candidates = _candidates(passages, text_of)
    # What the claim says is not so, beyond the question, a quote must speak of (a word of
    # it): "the file is not shared between threads" is no part of "Open an LZMA-compressed
    # file in binary mode".
    denied = negated_words(claim) - anchors

    @lru_cache(maxsize=1)
    def parameters() -> frozenset[str]:
        """The parameters of the entries the passages show, from their signature headings."""
        return frozenset().union(*(_parameters_of(c.entry) for c in candidates))

    if not keeps_its_subjects(claim, [c.span.text for c in candidates]):
        return []
    if not keeps_its_topic(claim, candidates):
        return []

    # A sentence negating only words the question itself states ("with no parameters",
    # asked about the frozen parameter) says nothing against the answer: it is left out,
    # rather than failing every set of quotes it joins. Any other sentence at odds with the
    # claim may still join a set and fail it; and a yes/no question's answer is its polarity,
    # as is that of a claim saying nothing but the question.
    # Asked under a negative condition ("if the event you hand it is not queued"), a sentence
    # putting it its own way ("If event is not an event currently in the queue, this method
    # will raise a ValueError") answers: its negation mirrors the question's.
    # So does one saying most of what the claim adds, and negating none of that: "LZMAFile
    # and bz2.BZ2File are not thread-safe, so if you need to use a single LZMAFile instance
    # from multiple threads, it is necessary to protect it with a lock" holds "To use one
    # LZMAFile from several threads, protect it with a lock"; "it cannot create an encrypted
    # file" holds no "zipfile creates encrypted files" (asked how).
    mirroring: set[int] = set()
    if question and not _YES_NO.search(question) and words - anchors:
        negative = bool(negated_words(question))
        aside = [c for c in candidates if _clashes_only_over(anchors, claim, c)]
        mirroring = {
            id(c)
            for c in aside
            if (negative and negated_words(c.span.text)) or _says_beside(c, claim, words - anchors)
        }
        left_out = {id(c) for c in aside} - mirroring
        candidates = [c for c in candidates if id(c) not in left_out]

    def cover(first: _Candidate) -> list[_Candidate]:
        chosen, covered = [first], words & first.words
        while len(chosen) < max_quotes and covered != words:
            best = max(candidates, key=lambda c: len((words & c.words) - covered))
            gain = len((words & best.words) - covered)
            # A further quote must add real content (a quarter of the claim), not a common
            # word; or, right beside a quote taken, a number or name the claim states.
            adds_fact = bool(missing(chosen) - missing([best])) and any(
                _beside(best, c, text_of) for c in chosen
            )
            if not gain or (gain < max(2, 0.25 * len(words)) and not adds_fact):
                break
            covered |= words & best.words
            chosen.append(best)
        # Words the claim repeats from the question count half when the quotes' sentences
        # hold all its others: "Which road link must keep traffic flowing?" is answered "The
        # Karakoram Highway must keep traffic flowing" from "uninterrupted connectivity along
        # the Karakoram Highway". Not their headings: the question restated with a name from
        # a page title ("China welcomed the URAAN Pakistan plan" beside a section heading).
        held = len(covered)
        said = {w for c in chosen for w in c.runs[0].split()}
        if words - echoed <= said:
            held += 0.5 * len(echoed - covered)
        return chosen if held / len(words) >= rules.threshold else []

    # Greedy set cover from each of the few sentences holding most of the claim in turn: the
    # best one by words may be a sentence that says the opposite ("with no parameters").
    for first in sorted(candidates, key=lambda c: -len(words & c.words))[:5]:
        if not words & first.words:
            break
        chosen = cover(first)
        if chosen and sound(chosen):
            return [_support(c, words) for c in chosen]
    if rules.similarity is None or not candidates:
        return []
    # Paraphrase: one quote holding every fact and some words, close in meaning, and some of
    # what the claim adds to the question: a signature "webbrowser.open_new_tab(url)" is close
    # to "the argument that makes webbrowser.open use a new tab is preferred=True", but says
    # nothing of "preferred=True". Asked yes or no, the claim adds only its polarity, so the
    # quote must speak of what is asked of the code: What's New's "process_time(): Sum of the
    # system and user CPU time of the current process." says nothing of whether it counts
    # time spent sleeping.
    predicate = anchors - code_words - rules.common if _YES_NO.search(question) else set()
    close = [
        c
        for c in candidates
        if len(words & c.words) >= 0.25 * len(words)
        and (not adds or adds & c.words)
        and (not predicate or _akin(c.words, predicate))
        and sound([c])
    ]
    if not close:
        return []
    close = sorted(close, key=lambda c: -len(words & c.words))[:12]
    scores = rules.similarity(claim, [c.span.text for c in close])
    best_score, best = max(zip(scores, close), key=lambda pair: pair[0])
    return [_support(best, words)] if best_score >= rules.min_similarity else []


# A sentence of a bibliographic reference, and the words a claim about a publication uses.
_REFERENCE = re.compile(
    r"\bpp\.\s*\d|\bVol\.\s*\d|\bNo\.\s*\d|\bISBN\b|\bdoi:|\bProceedings\b|\bJournal\b"
)
_PUBLISHING = "published publication paper article journal described book wrote written author"


def _only_passed_in(number: str, text: str) -> bool:
    """``number`` stands in an interactive example (">>> token_bytes(16)") only as what a
    call is given: no answer to what the call returns by default."""
    if not text.startswith(">>>"):
        return False
    given = {n for m in _ARGUMENTS.finditer(text) for n in _numbers(m[1])}
    return number in given and number not in _numbers(_ARGUMENTS.sub(" ", text))


_ARGUMENTS = re.compile(r"\(([^()]*)\)")


def code_in(text: str) -> set[str]:
    """The code names a text states, as written (``gzip.open``, ``lru_cache``)."""
    return {n for n in _NAME.findall(text) if _CODE.search(n)}


def code_names(text: str) -> set[str]:
    """The code names a text states, tokenized as facts are."""
    return {" ".join(tokenize(n)) for n in code_in(text)}


def names_code(name: str, text: str, heading: str = "") -> bool:
    """``text`` or its ``heading`` names the code ``name`` (as written), or the heading's last
    section opens with its last part under the others ("SequenceMatcher(…) › ratio()" names
    ``SequenceMatcher.ratio``; "Generating tokens › How many bytes should tokens use?" does
    not name ``secrets.token_bytes``)."""
    # As written, whole: "webbrowser.open_new_tab(url)" does not name ``webbrowser.open``.
    whole = re.compile(rf"(?<!\w){re.escape(name.rstrip('()'))}(?!\w)", re.IGNORECASE)
    if any(whole.search(t) for t in (text, heading)):
        return True
    *owner, member = name.rstrip("()").split(".")
    *above, last = heading.split("›")
    opening = f" {' '.join(tokenize(last))} ".startswith(f" {' '.join(tokenize(member))} ")
    under = _in_order(tokenize(".".join(owner)), tokenize(" ".join(above)))
    return bool(owner) and opening and under


def _entry_line(quote: _Candidate, text: str) -> str:
    """The sentence before ``quote`` and, within its passage and section, the nearest before
    it that names code: the entry a reference page's sentence belongs to ("webbrowser.open(url,
    new=0)" above "Display url…" and "If new is 2, a new tab is opened"), when a chunk holds
    the end of one entry and the start of the next under the first one's heading. A heading
    ("Command Line Interface": a short line without a full stop) ends the search."""
    before = sentence_before(text, quote.span.start)
    lo = int(quote.passage.node.metadata["start"])
    entry = ""
    for span in reversed(sentences_between(text, lo, quote.span.start)):
        if code_in(span.text):
            entry = span.text
            break
        if _HEADING_LINE.match(span.text):
            break
    return f"{before.text if before else ''} {entry}"


_HEADING_LINE = re.compile(r"^[^.!?:;]{1,60}$")  # short, and no sentence's punctuation


_QUOTED = re.compile(r"['\"‘“]([\w.-]+)['\"’”]")
_BARE_NOTE = re.compile(r"(?:New|Added|Changed) in version [\d.]+\.?$")


def _item_before(text: str, offset: int) -> str:
    """The paragraph of prose before ``offset``, passing over examples (">>> …", code)."""
    for paragraph in reversed(text[:offset].split("\n\n")):
        lines = paragraph.strip().splitlines()
        if lines and not lines[0].startswith((">>>", "...", " ", "\t", "$", "#")):
            return paragraph
    return ""


def _under_another_entry(quote: _Candidate, question: str, text: str) -> bool:
    """True when ``quote``, a sentence of the document ``text``, sits under a reference entry
    ("Repr.fillvalue") the question does not name, and the question names another entry of the
    page ("maxlevel", of "Repr.maxlevel"), or code its entry does not ("crc64"), that the
    quote's sentence does not; or when it speaks of another parameter of its entry than the
    question (``_conditioned_on_another_parameter``)."""
    asked, as_code = _identifiers_of(question)
    if _conditioned_on_another_parameter(quote, asked):
        return True
    entry = _SIGNATURE.match(quote.entry)
    if not entry:
        return False
    if entry["name"].lower() in asked | _joined_pairs(question):
        return False  # named, or named in words: "an empty line" of Cmd.emptyline()
    # What its entry says up to it counts, not its signature's parameters (below): "The
    # default is 1000." under sys.tracebacklimit speaks of the "unhandled exception" the
    # sentence before it names, though the page has a sys.exception() entry.
    described = "\n".join(
        line for line in _entry_text(quote, text).splitlines() if not is_signature(line)
    )
    said = {w.lower() for w in _IDENTIFIER.findall(described)}
    # Its entry's own name counts as said ("shlex" of "shlex.join()"), not a parameter the
    # question writes as code: lookup's "If not found, KeyError is raised" is not what
    # unicodedata.name raises, though lookup takes a "name".
    own = {w.lower() for w in _IDENTIFIER.findall(quote.entry.split("(")[0])}
    # A special method's entry is its plain name's too: the operator page heads
    # "operator.contains(a, b)" and "operator.__contains__(a, b)" with one description.
    said |= own | {w.strip("_") for w in own}
    # A parameter of its entry the question names as a plain word is one it speaks of: "in
    # 'x' mode" of "tarfile.open(name=None, mode='r', …)", though TarInfo.mode is an entry.
    parameters = _PARAMETERS.search(quote.entry)
    if parameters:
        said |= {w.lower() for w in _IDENTIFIER.findall(parameters[1])} - as_code
    # Nor does it speak of code the question names that its entry does not, entry of the page
    # or not: zlib.crc32's "a default value of 0 is used" is not where "crc64" starts.
    coded = {w for w in asked if _CODE_WORD.search(w)}
    # "by default" asks for a default; only written as code does it name Cmd.default().
    named = (asked - (_ASKING_WORDS - as_code)) & _entry_names(text)
    return bool((named | coded) - said)


_ASKING_WORDS = frozenset(("default", "defaults"))


def _conditioned_on_another_parameter(quote: _Candidate, asked: frozenset[str]) -> bool:
    """True when ``quote`` opens on a condition on a parameter of its entry that the question
    does not name, and the question names another parameter of the entry that the quote does
    not: "If exist_ok is false (the default), FileExistsError is raised …" does not say what
    Path.mkdir(mode=0o777, parents=False, exist_ok=False) raises for a missing parent."""
    condition = _CONDITION.match(quote.span.text)
    parameters = _PARAMETERS.search(quote.entry)
    if not condition or not parameters:
        return False
    names = {n.lower() for n in _PARAMETER_NAME.findall(parameters[1])}
    on = condition[1].lower()
    if on not in names or on in asked:
        return False
    return bool(names & asked - quote.identifiers)


_CONDITION = re.compile(r"(?:If|When|Unless)\s+([A-Za-z_]\w*)\s+(?:is|are)\b")
_PARAMETER_NAME = re.compile(r"(?:^|[,\[(])\s*\*{0,2}([A-Za-z_]\w*)")


@lru_cache(maxsize=64)
def _joined_pairs(question: str) -> frozenset[str]:
    """Each two words of the question written as one, lowercased: "emptyline", "rawinput"."""
    words = [w.lower() for w in _IDENTIFIER.findall(question)]
    return frozenset(a + b for a, b in zip(words, words[1:], strict=False))


# A reference entry's heading line: "class reprlib.Repr", "statistics.fmean(data)", "Repr.maxlevel".
_SIGNATURE = re.compile(
    r"^(?:(?:class|exception|@|await|async|abstractmethod|classmethod|staticmethod) ?)*"
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.(?P<name>[A-Za-z_]\w*)\s*(?:\(.*\))?$"
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_PARAMETERS = re.compile(r"\((.*)\)")  # inside a signature's parentheses


def _speaks_of_other_code(quote: _Candidate, asked: Set[str]) -> bool:
    """True when the quote's sentence names code but none of ``asked`` (the question's, as
    ``code_in`` gives it) outside an opening contrast ("Unlike X, …"), and its entry does not
    name it either: What's New 2.4's "This differs from the existing os.path.exists(path)
    function, which returns false if path is a symlink …" speaks of exists, not of lexists;
    What's New 3.5's "Unlike the os.path.commonprefix() function, it always returns a valid
    path" of commonpath."""
    sentence = quote.span.text
    if not asked or not code_in(sentence):
        return False
    plain = _CONTRAST.sub(" ", sentence)
    for name in asked:
        member = name.rstrip("()").rsplit(".", 1)[-1]
        if re.search(rf"(?<!\w){re.escape(member)}(?!\w)", f"{plain} {quote.entry}", re.I):
            return False
        if names_code(name, "", quote.heading):
            return False
    return True


# What a sentence sets its subject against, before the clause about it: "Unlike X, it …".
_CONTRAST = re.compile(r"\b(?:unlike|in contrast (?:to|with)|as opposed to)\b[^,;:]*", re.I)


@lru_cache(maxsize=64)
def _identifiers_of(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """The question's identifiers, lowercased: all of them, and those of the code it names."""
    return (
        frozenset(w.lower() for w in _IDENTIFIER.findall(question)),
        frozenset(w.lower() for name in code_in(question) for w in _IDENTIFIER.findall(name)),
    )


# A name called: "open(" of "bz2.open()", not "cache(" of "lru_cache()".
_CALLED = re.compile(r"(?<!\w)([A-Za-z_]\w*)\(")
_CODE_WORD = re.compile(r"^(?=.*[a-z])(?:\w*\d|\w+_)\w*$")  # crc64, a2b_base64, dirs_exist_ok


@lru_cache(maxsize=64)
def _entry_names(text: str) -> frozenset[str]:
    """The last names of a page's reference entries, lowercased ("maxlevel", "fmean")."""
    return frozenset(
        m["name"].lower() for line in text.splitlines() if (m := _SIGNATURE.match(line.strip()))
    )


def _entry_text(quote: _Candidate, text: str) -> str:
    """The text from the heading ``quote`` sits under (within its passage) to the quote."""
    start = int(quote.passage.node.metadata.get("start", 0))
    for at, _ in quote.passage.sections:
        if at <= quote.span.start:
            start = max(start, at)
    return text[start : quote.span.end]


def _names_in(question: str) -> set[str]:
    """The question's names as tokens: capitalised words and code, and words mixing letters
    and digits ("crc64")."""
    named = {w for f in facts(question) if not f[0].isdigit() for w in f.split()}
    mixed = {t for t in tokenize(question) if re.search(r"\d", t) and re.search(r"[a-z]", t)}
    return named | mixed | {w for name in code_names(question) for w in name.split()}


# A version something was left in ("deprecated since Python 3.4"), and the words saying so.
_RETIRED = re.compile(
    r"\b(?:deprecated|removed|obsolete)\b(?:\s+\w+){0,3}?\s+(?:since|in)\s+"
    r"(?:python\s+|version\s+)?(\d+(?:\.\d+)+)",
    re.IGNORECASE,
)
_RETIRED_WORDS = re.compile(r"\b(?:deprecat|remov|obsolete)", re.IGNORECASE)
# A reference entry's note on when it came or changed: "New in version 3.2.".
VERSION_NOTE = re.compile(r"(?:New|Added|Changed) in version \d|Deprecated since version \d")


@lru_cache(maxsize=256)
def _parameters_of(entry: str) -> frozenset[str]:
    """The parameter tokens of a signature heading: the words inside its parentheses."""
    signature = _PARAMETERS.search(entry)
    return frozenset(tokenize(signature[1])) if signature else frozenset()


@lru_cache(maxsize=64)
def _page_parameters(text: str) -> frozenset[str]:
    """The parameters of a page's reference entries, from their signature lines: a chunk
    retrieved or pointed at may not hold the entry whose parameter a question names."""
    return frozenset().union(
        *(_parameters_of(line) for line in text.splitlines() if is_signature(line))
    )


def _parameters_only_headed(quote: _Candidate, asked: set[str]) -> bool:
    """True when a word of ``asked`` is a parameter of the signature heading ``quote`` (the
    words inside its last section's parentheses) and the quote's sentence does not say it."""
    return bool((asked & _parameters_of(quote.entry)) - set(quote.runs[0].split()))


@lru_cache(maxsize=64)
def _document_run(text: str) -> str:
    """A document's tokens, space-joined and space-framed (cached: documents are long)."""
    return f" {' '.join(tokenize(text))} "


def _before(candidate: _Candidate, text_of: Callable[[str], str]) -> str:
    """The sentence before a quote's, or ""."""
    before = sentence_before(text_of(candidate.passage.doc_id), candidate.span.start)
    return before.text if before else ""


def _with_context(candidate: _Candidate, text_of: Callable[[str], str]) -> str:
    """A quote's sentence with its heading path and the sentence before it."""
    return f"{candidate.heading}\n{_before(candidate, text_of)}\n{candidate.span.text}"


# A range bounds a value both ways: "an integer from 0 to 9", "in the range 0 to 0x10FFFF".
_RANGE = r"|\brange\b|\b\d[\w.]*\s+(?:to|through)\s+[\w.]*\d"

# Words that pick one of several things of a kind (the next round, the maximum size), each
# with the ways a source may say it. A claim saying one needs a quote saying it: "Beijing will
# host the next round" is not held by "the Seventh Round … in Beijing", nor "heappushpop pushes
# onto a max-heap" by "Push the value item onto the heap".
_QUALIFIERS = [
    (re.compile(pattern, re.IGNORECASE), re.compile(held, re.IGNORECASE))
    for pattern, held in (
        # "The longest time time.sleep can suspend a thread for is 100 nanoseconds" is not
        # held by "… a high-resolution timer which provides resolution of 100 nanoseconds",
        # nor "2" as the most channels a WAV file can have by "(1 for mono, 2 for stereo)".
        (r"\b(?:max|maximum|maximal|longest|largest|greatest|biggest|highest)\b",
         r"\bmax|\bat most\b|\bup to\b|\blimit|\bupper\b|\bhighest\b|\blargest\b"
         r"|\blongest\b|\bgreatest\b|\bbiggest\b|\bno more than\b|\bmost\b|\bceiling\b"
         + _RANGE),
        (r"\b(?:min|minimum|minimal|shortest|smallest|lowest|fewest)\b",
         r"\bmin|\bat least\b|\blower\b|\blowest\b|\bsmallest\b|\bshortest\b|\bfewest\b"
         r"|\bno (?:fewer|less) than\b" + _RANGE),
        (r"\b(?:next|upcoming)\b(?!\s+to\b)",
         r"\bnext\b|\bupcoming\b|\bfuture\b"),
        (r"\b(?:previous|preceding|former)\b",
         r"\bprevious|\bpreceding\b|\bformer|\bprior\b|\bearlier\b|\blast\b"),
        (r"\b(?:latest|newest)\b", r"\blatest\b|\bnewest\b|\bmost recent|\bcurrent"),
        # Platforms: "venv installs the most recent Python on Windows" is not held by "venv
        # will usually install the most recent version of Python that you have available",
        # wherever else its page says "On Windows, run: …". Not tkinter's "windows".
        (r"\b(?-i:Windows)\b", r"\bwindows\b|\bwin32\b"),
        (r"\b(?:unix|posix)\b", r"\bunix|\bposix\b"),
        (r"\blinux\b", r"\blinux\b|\bunix|\bposix\b"),
        (r"\b(?:macos|mac os|os x)\b", r"\bmacos\b|\bmac os\b|\bos x\b|\bdarwin\b"),
    )
]  # fmt: skip


def qualifiers_of(claim: str) -> list[re.Pattern]:
    """For each kind the claim picks one of, the ways a quote may pick the same."""
    return [held for said, held in _QUALIFIERS if said.search(claim)]


def keeps_its_qualifiers(claim: str, quotes: Sequence[str]) -> bool:
    """False when the claim picks one of a kind (next, previous, latest, maximum, minimum)
    that no quote picks: the quotes tell of another of that kind."""
    return all(any(held.search(q) for q in quotes) for held in qualifiers_of(claim))


def _clashes_only_over(words: set[str], claim: str, candidate: _Candidate) -> bool:
    clash = polarity_clash(claim, candidate.span.text)
    return bool(clash) and clash <= words


def _says_beside(candidate: _Candidate, claim: str, added: set[str]) -> bool:
    """The sentence says most of what ``claim`` adds to the question (``added``) and negates
    none of it, and the negation is the sentence's: "If the event is queued, … ValueError"
    does not hold "… raises a ValueError if the event is not queued"."""
    said = added & set(candidate.runs[0].split())
    clash = polarity_clash(claim, candidate.span.text)
    return (
        len(said) * 2 >= len(added)
        and not said & negated_words(candidate.span.text)
        and not clash & negated_words(claim)
    )


def _beside(a: _Candidate, b: _Candidate, text_of: Callable[[str], str]) -> bool:
    """Neighbouring sentences of one document."""
    if a.passage.doc_id != b.passage.doc_id:
        return False
    first, second = sorted((a.span, b.span), key=lambda s: s.start)
    return not text_of(a.passage.doc_id)[first.end : second.start].strip()


def _support(candidate: _Candidate, words: set[str]) -> Support:
    held = len(words & candidate.words) / len(words)
    return Support(candidate.passage, candidate.span, held)


_CAPITALISED_FUNCTION_WORDS = frozenset(
    "A An The This That These Those It Its They Their He His She Her We Our Both Each Either "
    "Neither In On At By For From With According If When While As After Before Since Then "
    "There Here Also However".split()
)
_BETWEEN_SUBJECT_AND_VERB = frozenset(
    "also has have had will would can could shall should may might must did does do then "
    "further firmly jointly again already".split()
)
_MODALS = frozenset("will would can could shall should may might must did does do".split())
_IRREGULAR_PAST = frozenset(
    "said led held gave made took met saw went told sent won lost paid became began brought "
    "built chose drew found got grew heard kept left meant put ran read set spoke stood "
    "wrote".split()
)
_WORD = re.compile(r"[A-Za-z][\w'’]*(?:-[\w'’]+)*|\d[\d.,:–-]*")


def _subject_before(words: list[str], i: int) -> set[str]:
    """The names right before ``words[i]`` ("China also welcomed", "Pakistan and China have
    agreed", "Dar's January 3–5 visit"), as tokens; empty when no name stands there."""
    j = i - 1
    while j >= 0 and (
        words[j].lower() in _BETWEEN_SUBJECT_AND_VERB
        or words[j][0].isdigit()
        or words[j].lower() in _MONTHS
        or words[j].lower() in _WEEKDAYS
    ):
        j -= 1
    if j >= 0 and not words[j][0].isupper():  # "Ishaq Dar, who was on a three-day visit"
        for k in range(j, max(0, j - 6), -1):
            if words[k] == "who" and words[k - 1][0].isupper():
                j = k - 1
                break
            if words[k][0].isupper():
                break

    def name_ending_at(end: int) -> tuple[list[str], int]:  # at most 3 words: Ishaq Dar
        start = end
        while start >= 0 and end - start < 3 and _is_name(words[start]):
            start -= 1
        return words[start + 1 : end + 1], start

    names, j = name_ending_at(j)
    if names and j >= 1 and words[j] == "and":  # "Pakistan and China": both are the subject
        more, _ = name_ending_at(j - 1)
        names += more
    return set(tokenize(" ".join(names)))


def _is_name(word: str) -> bool:
    return word[:1].isupper() and word not in _CAPITALISED_FUNCTION_WORDS


def _subject_verbs(claim: str) -> list[tuple[set[str], str]]:
    """(subject, verb stem) pairs of a claim: a name before a past-tense verb or a verb after
    a modal ("Pakistan welcomed", "Wang Yi will visit")."""
    words = _WORD.findall(claim)
    pairs = []
    for i, word in enumerate(words):
        after_modal = i > 0 and words[i - 1].lower() in _MODALS
        if not word.islower() or not (
            word.endswith("ed") or word in _IRREGULAR_PAST or after_modal
        ):
            continue
        subject = _subject_before(words, i)
        if subject and tokenize(word):
            pairs.append((subject, tokenize(word)[0]))
    return pairs


def _subjects_of(sentence: str, verb: str) -> list[set[str]]:
    """The names ``sentence`` gives the verb stem ``verb`` to, one set per naming use."""
    words = _WORD.findall(sentence)
    uses = [i for i, word in enumerate(words) if tokenize(word)[:1] == [verb]]
    return [names for names in (_subject_before(words, i) for i in uses) if names]


def keeps_its_subjects(claim: str, sentences: Sequence[str]) -> bool:
    """False when the sentence most like the claim, among those giving the claim's verb to a
    name, gives it to another name: "China reiterated support for Pakistan's position on
    Taiwan" against "Pakistan reiterated firm support for China's positions on Taiwan",
    whatever quote the claim is then matched with."""
    words = set(tokenize(claim))
    for subject, verb in _subject_verbs(claim):
        named = []  # (words shared with the claim, gives the verb to the claim's subject)
        for sentence in sentences:
            overlap = len(words & set(tokenize(sentence)))
            if overlap < len(words) / 2:
                continue  # not a sentence about the claim
            subjects = _subjects_of(sentence, verb)
            if subjects:
                named.append((overlap, any(names & subject for names in subjects)))
        if named and not max(named, key=lambda pair: pair[0])[1]:
            return False
    return True


_BE = frozenset("is are was were be been being".split())
_PARTICIPLES = frozenset(
    "made held built given taken found kept left meant put read set written known shown done "
    "seen".split()
)
_PRONOUNS = frozenset("it this that these those they which who what one he she there".split())
_BESIDE_PASSIVE = _BETWEEN_SUBJECT_AND_VERB | {"not", "only", "always", "usually", "often", "still"}


def _passive_subjects(sentence: str) -> list[tuple[str, str]]:
    """(head noun, verb stem) of each passive in ``sentence``: "Empty tuples are constructed"
    gives ("tupl", "construct"). Pronouns are left out: what they stand for is elsewhere."""
    words = _WORD.findall(sentence)
    pairs = []
    for i, word in enumerate(words):
        if not word.islower() or not (word.endswith("ed") or word in _PARTICIPLES):
            continue
        j = i - 1
        while j >= 0 and words[j].lower() in _BESIDE_PASSIVE:
            j -= 1
        if j < 1 or words[j].lower() not in _BE:
            continue
        j -= 1
        while j >= 0 and words[j].lower() in _BESIDE_PASSIVE:
            j -= 1
        if j < 0 or words[j].lower() in _PRONOUNS:
            continue
        head, verb = tokenize(words[j])[-1:], tokenize(word)[-1:]
        if head and verb:
            pairs.append((head[0], verb[0]))
    return pairs


def keeps_its_topic(claim: str, candidates: Sequence[_Candidate]) -> bool:
    """False when the sentence most like the claim, among those saying the claim's passive verb
    of something, says it of what its section's heading names, and the claim of something else
    that heading does not name: "The empty set is constructed by an empty pair of parentheses"
    from "Empty tuples are constructed by an empty pair of parentheses" under "Tuples and
    Sequences". Common nouns, where :func:`keeps_its_subjects` reads names; a heading not
    naming the quote's subject decides nothing ("the dialogue" asked, "the talks" written)."""
    words = set(tokenize(claim))
    for head, verb in _passive_subjects(claim):
        best: tuple[int, set[str], set[str]] | None = None
        for candidate in candidates:
            overlap = len(words & set(candidate.runs[0].split()))
            if overlap < len(words) / 2 or (best and overlap <= best[0]):
                continue
            heads = {h for h, v in _passive_subjects(candidate.span.text) if v == verb}
            if heads:
                best = (overlap, heads, set(candidate.runs[1].split()))
        if best and head not in best[1] and best[1] & best[2] and head not in best[2]:
            return False
    return True


def same_subjects(claim: str, quote: str) -> bool:
    """False when the claim gives a verb to one name and the quote gives that verb only to
    others: "Pakistan welcomed the plan" is not held by "China also welcomed Pakistan's
    plan", nor "Wang Yi will visit Pakistan" by "during Dar's January 3–5 visit"."""
    for subject, verb in _subject_verbs(claim):
        subjects = _subjects_of(quote, verb)
        if subjects and not any(names & subject for names in subjects):
            return False
    return True


# What a call gives back, said of that call: "get_source() returns None", "f() raises KeyError".
_GIVES = re.compile(r"\b(?:returns?|returned|raises?|raised|gives?)\b", re.IGNORECASE)
_CALL_GIVES = re.compile(
    r"(?P<call>[A-Za-z_][\w.]*)\(\)\s+(?:returns?|raises?|gives?)\s+(?:an?\s+)?(?P<value>[\w.]+)"
)


def keeps_what_calls_give(claim: str, quote: str) -> bool:
    """False when the claim tells what a call returns or raises ("linecache.getline returns
    None") and the quote gives that value only as another call's ("if get_source() returns
    None, then '' is returned") or as a parameter's default the claim does not name
    ("linecache.getline(filename, lineno, module_globals=None)")."""
    if not _GIVES.search(claim):
        return True
    named = {w.lower() for w in _IDENTIFIER.findall(claim)}
    others = [
        m.span("value")
        for m in _CALL_GIVES.finditer(quote)
        if m["call"].split(".")[-1].lower() not in named
    ]
    for m in _KEYWORD_ARGUMENT.finditer(quote):
        parameter, _, value = m[0].partition("=")
        if parameter.lower() not in named:
            others.append((m.end() - len(value), m.end()))
    elsewhere = quote  # the quote with those values blanked out
    for start, end in others:
        elsewhere = elsewhere[:start] + " " * (end - start) + elsewhere[end:]
    for start, end in others:
        value = quote[start:end].strip("'\".")
        if (
            value
            and value.lower() in named
            and not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", elsewhere)
        ):
            return False
    return True


# Verbs that make their subject one of what follows them: "Wang Yi led Pakistan's side".
_SPEAKS_FOR = frozenset("led headed represented chaired co-chaired".split())
_TITLES = frozenset(
    "Minister Secretary President Premier Chancellor Chairman Chair Director Governor "
    "Ambassador Envoy Chief Deputy Head Commander General Mayor Spokesperson Spokesman "
    "Spokeswoman Chairwoman Adviser".split()
)
# Chinese, Pakistani, Omani. It matches "Chairman" too: titles are kept out by _TITLES.
_DEMONYM = re.compile(r"(?:ese|an|ish|i|ch)$")


def _owner(word: str) -> str:
    return re.sub(r"['’]s$", "", word)


def _affiliation(words: list[str], first: int) -> str:
    """Whose a person named at ``words[first]`` is, by the titles before the name: "Pakistan"
    for "Pakistan’s Deputy Prime Minister and Foreign Minister Ishaq Dar", "Chinese" for
    "Chinese Foreign Minister Wang Yi"; "" when the sentence does not say."""
    k = first - 1
    while k >= 0:
        word = words[k]
        if word == "and" and k > 0 and words[k - 1] in _TITLES:
            k -= 1
            continue
        if not _is_name(word):
            break
        if _owner(word) != word:
            return _owner(word)
        k -= 1
    start = words[k + 1] if k + 1 < first else ""
    return start if _DEMONYM.search(start) and start not in _TITLES else ""


def keeps_its_affiliations(claim: str, quote: str) -> bool:
    """False when the claim has a person lead, represent or be of a side the quote gives to
    another: "Wang Yi led Pakistan's side" (or "Ishaq Dar is China's foreign minister") is
    not held by "co-chaired by Chinese Foreign Minister Wang Yi and Pakistan’s Deputy Prime
    Minister and Foreign Minister Ishaq Dar"."""
    words = _WORD.findall(claim)
    quoted = _WORD.findall(quote)
    for i, verb in enumerate(words):
        copula = verb in ("is", "was")  # "Ishaq Dar is China's foreign minister"
        if verb.lower() not in _SPEAKS_FOR and not copula:
            continue
        person = _subject_before(words, i)
        side = next((w for w in words[i + 1 : i + 3] if w.lower() not in ("the", "a")), "")
        if not person or not _is_name(side) or set(tokenize(side)) & person:
            continue
        if copula and _owner(side) == side:
            continue
        at = next((k for k, w in enumerate(quoted) if set(tokenize(w)) & person), None)
        if at is None:
            continue
        while at > 0 and set(tokenize(quoted[at - 1])) & person:
            at -= 1  # the name's first word: Wang of Wang Yi
        owner = _affiliation(quoted, at)
        if owner and owner[:4].lower() != _owner(side)[:4].lower():
            return False
    return True


_KEYWORD = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*(\d+(?:\.\d+)?)\b")


def numbers_keep_their_words(
    claim: str,
    quotes: Sequence[str],
    reach: int = 4,
    counted: str = "",
    before: Sequence[str] = (),
) -> bool:
    """Each number of the claim stands, in some quote, within ``reach`` words of the word
    after it in the claim (its unit), wherever the quotes use that word at all: "four days"
    is not held by a quote saying "a three-day visit … on January 4", but "9" in "level 9
    unless told" is held by "compresslevel=9" (the quotes never say "unless"). The unit a
    "how many" question counts, or the unit it asks a quantity in (``counted``, stemmed), is
    needed beside the number even when no quote uses it, and wherever the claim puts it: "up
    to 4 disks" is not held by "more than 4 GiB", nor "the resolution in nanoseconds is
    1000000" by "number=1000000". A number given in
    code as a keyword's value (``repeat=5``) is held with that keyword when the claim names
    it before the number, whatever unit the claim then counts in, and stands where the quotes
    name the keyword in prose ("up to the maxsize most recent calls"). A quote referring back
    for what it numbers ("The default is 1000.") has the unit in the sentence before it
    (``before``, by quote): "… the maximum number of levels of traceback information …"."""
    claim_tokens = tokenize(claim)
    referring = [
        set(tokenize(b)) if _REFERS_BACK.match(q) else set()
        for q, b in zip(quotes, before or [""] * len(quotes), strict=True)
    ]
    stated = facts(claim)  # not "the two ministers": loose number words are not checked
    quote_tokens = [tokenize(q) for q in quotes]
    vocabulary = {t for tokens in quote_tokens for t in tokens}
    keywords = {  # a keyword's value in code: repeat=5
        (normalize(m[1].lower()), normalize(m[2])) for q in quotes for m in _KEYWORD.finditer(q)
    }
    for i, token in enumerate(claim_tokens):
        if not token[0].isdigit() or token not in stated:
            continue
        if any((k, token) in keywords for k in claim_tokens[max(0, i - reach) : i]):
            continue  # "timeit.repeat performs 5 rounds by default" from "repeat=5"
        if i and claim_tokens[i - 1] in _RELEASE_WORDS and token not in vocabulary:
            continue  # "Since Python 3.4, Shelf …" from What's New 3.4's title: no unit
        neighbours = {  # the unit after it: "four days", "32 bytes"
            t
            for t in claim_tokens[i + 1 : i + 2]
            if not t[0].isdigit() and (t in vocabulary or t == counted)
        }
        if counted in claim_tokens:  # "the resolution in nanoseconds … is 100"
            neighbours.add(counted)
        # The keyword standing for the number in prose: "saves up to the maxsize most recent
        # calls" below "lru_cache(maxsize=128)" holds "up to 128 recent calls".
        named = {token} | {k for k, value in keywords if value == token}
        if neighbours and not any(
            tokens[j] in named
            and neighbours & (set(tokens[max(0, j - reach) : j + reach + 1]) | referred)
            for tokens, referred in zip(quote_tokens, referring, strict=True)
            for j in range(len(tokens))
        ):
            return False
    return True


# A sentence giving a number for what the sentence before it speaks of.
_REFERS_BACK = re.compile(
    r"(?:The default(?: value)?|It|This|That) (?:is|was|defaults to)\b|Defaults to\b"
)


# Words naming a release by the number after them: "Python 3.4", "version 3.8" (stemmed).
_RELEASE_WORDS = frozenset({"python", "version", "releas"})

_CLAUSE_BREAK = re.compile(r"[,;]\s+|\s+(?:and|but|while|whereas)\s+")


def keeps_the_things_numbered(question: str, claim: str, quotes: Sequence[str]) -> bool:
    """A number the question gives a thing ("protocol version 1", "Python 2") stays that
    thing's in a quote giving the answer's numbers: "Protocol version 2 was introduced in
    Python 2.3" does not hold "Pickle protocol version 1 appeared in Python 2.3". Fails when
    such a quote numbers the word before it only otherwise ("Python 2.x" holds "Python 2").
    The question's own pairs count when the claim leaves them out: "Version 0.2: posted July
    10 2006" does not date "version 0.30" ("It was posted on July 10 2006")."""
    asked = tokenize(question)
    told = {t for t in asked if t[0].isdigit()}
    claimed = tokenize(claim)
    wanted = {(w, n) for w, n in _numbered(claimed) | _numbered(asked) if n in told}
    answered = {t for t in claimed if t[0].isdigit()} - told
    for quote in quotes:
        tokens = tokenize(quote)
        if not answered & set(tokens):
            continue
        given = _numbered(tokens)
        for word, number in wanted:
            others = {n for w, n in given if w == word}
            if others and not any(n == number or n.startswith(f"{number}.") for n in others):
                return False
    return True


def _numbered(tokens: Sequence[str]) -> set[tuple[str, str]]:
    """Each word with the number right after it: ("version", "1") of "protocol version 1"."""
    return {
        (word, number)
        for word, number in zip(tokens, tokens[1:], strict=False)
        if number[0].isdigit() and not word[0].isdigit()
    }


_ALTERNATIVES = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)\s+or\s+(\d+(?:[.,]\d+)*)(?![\w.])")


def keeps_the_alternatives(claim: str, quotes: Sequence[str]) -> bool:
    """A quote offering numbers as alternatives ("typically 4096 or 8192 bytes") holds no
    claim that one of them is the value: "io.DEFAULT_BUFFER_SIZE is 8192". Fails when a quote
    gives "A or B" and the claim states one without the other."""
    stated = _numbers(claim)
    for quote in quotes:
        for pair in _ALTERNATIVES.finditer(quote):
            if bool(stated & _numbers(pair[1])) != bool(stated & _numbers(pair[2])):
                return False
    return True


def numbers_keep_their_names(claim: str, quotes: Sequence[str]) -> bool:
    """A number the claim gives a name keeps it in a quote giving numbers clause by clause:
    "up to 64 bytes for BLAKE2b and up to 32 bytes for BLAKE2s" does not hold "BLAKE2b
    digests can be at most 32 bytes". Fails when a clause holds the name with another
    number, and each clause holding the number names something the claim does not."""
    said = set(tokenize(claim))
    numbers = {f for f in facts(claim) if f[0].isdigit()}
    for quote in quotes:
        names = {f for f in facts(quote) if f in said and not f[0].isdigit()}
        if not numbers or not names:
            continue
        clauses = [(set(tokenize(c)), facts(c)) for c in _CLAUSE_BREAK.split(quote)]
        for number in numbers:
            holding = [c for c in clauses if number in c[0]]
            for name in names:
                if not holding or any(name in words for words, _ in holding):
                    continue
                elsewhere = any(
                    name in words and any(w[0].isdigit() and w != number for w in words)
                    for words, _ in clauses
                )
                if elsewhere and all(found - said for _, found in holding):
                    return False
    return True


# A question asking for a greatest or a least value, and the words that make a number a
# floor ("greater than 270 years", "one or more") or a ceiling ("up to 4", "10 or fewer").
_ASKS_MOST = re.compile(
    r"\b(?:largest|biggest|highest|greatest|longest|maximum|max|at most|no more than"
    r"|upper (?:limit|bound))\b(?![_.(])",
    re.IGNORECASE,
)
_ASKS_LEAST = re.compile(
    r"\b(?:smallest|lowest|least|fewest|shortest|minimum|min|lower (?:limit|bound))\b(?![_.(])",
    re.IGNORECASE,
)
_RAW_WORD = re.compile(SCIENTIFIC + r"|\d+(?:[.,:]\d+)*|[a-z]+", re.IGNORECASE)
_MORE = frozenset("greater more larger bigger longer higher later newer".split())
_LESS = frozenset("less fewer smaller shorter lower earlier older".split())
_FLOOR_BEFORE = frozenset("over above beyond exceeding exceeds exceed past".split())
_CEILING_BEFORE = frozenset("under below within".split())


def _bound(words: list[str], i: int) -> str:
    """Whether the number at ``words[i]`` is a "floor", a "ceiling" or neither ("")."""
    before = words[max(0, i - 3) : i]
    after = words[i + 1 : i + 3]
    if before[-1:] == ["than"] and len(before) >= 2:
        negated = len(before) == 3 and before[0] in ("no", "not")
        if before[-2] in _MORE:
            return "ceiling" if negated else "floor"  # "no more than 4" is a ceiling
        if before[-2] in _LESS:
            return "floor" if negated else "ceiling"
    if before[-2:] == ["at", "least"] or before[-2:] == ["minimum", "of"]:
        return "floor"
    if before[-2:] in (["at", "most"], ["up", "to"], ["maximum", "of"]):
        return "ceiling"
    if before[-1:] and before[-1] in _FLOOR_BEFORE:
        return "floor"
    if before[-1:] and before[-1] in _CEILING_BEFORE:
        return "ceiling"
    if after[:1] == ["or"] and after[1:]:
        if after[1] in _MORE or after[1] in ("above", "up"):
            return "floor"
        if after[1] in _LESS or after[1] in ("below", "less"):
            return "ceiling"
    return ""


def keeps_the_bound(question: str, claim: str, quotes: Sequence[str]) -> bool:
    """False when the question asks for a greatest value and every quote giving the claim's
    answer number gives it as a floor, or asks for a least value and they give a ceiling:
    "the largest timedelta is 270 years" is not held by "for intervals greater than 270
    years … lose microsecond accuracy", nor "at most one file name" by "one or more
    filenames"."""
    most, least = bool(_ASKS_MOST.search(question)), bool(_ASKS_LEAST.search(question))
    if most == least:
        return True
    asked = set(tokenize(question))
    answers = {t for t in tokenize(claim) if t[0].isdigit()} - asked
    wrong = "floor" if most else "ceiling"
    for number in answers:
        bounds = []
        for quote in quotes:
            words = [w.lower() for w in _RAW_WORD.findall(quote)]
            bounds += [_bound(words, i) for i, w in enumerate(words) if normalize(w) == number]
        if bounds and all(b == wrong for b in bounds):
            return False
    return True


# Asked which version or release: "since when", or when something was added to software.
ASKS_VERSION = re.compile(
    r"\b(?:versions?|releases?)\b|\bsince when\b"
    r"|\bwhen\b.*\b(?:added|introduced|gain|gained|get|got|appear|appeared)\b",
    re.IGNORECASE,
)

# The verbs asking when something came or went ("Which version gave a2b_base64 its
# strict_mode parameter?", "… did BZ2File lose its buffering parameter?"): the question's
# frame, not a detail an entry's note must mention, however rare.
_DATING_VERBS = frozenset(
    tokenize(
        "give gave given get got gotten gain gained add added introduce introduced bring "
        "brought receive received acquire acquired come came appear appeared begin began "
        "start started learn learned learnt grow grew lose lost drop dropped remove removed"
    )
)

# The verbs asking when something came to be, and the sections that tell of changes only.
_COMING = frozenset(tokenize("add added introduce introduced appear appeared new"))
_PORTING = re.compile(r"\bPorting to\b")
_POINT_RELEASE = re.compile(r"\b\d+\.\d+\.\d+\b")

# The words of a question asking only since when something exists ("Since what version does
# time.monotonic exist?"), besides its name and the dating verbs.
# "first" ("first added") is "1" to tokenize.
_BEING_WORDS = frozenset(
    tokenize("since exist exists existed available python version release first")
)

_PARAMETER_WORDS = frozenset(tokenize("parameter argument keyword option flag"))
_AS_PARAMETER = re.compile(
    r"\b([A-Za-z_]\w*)\s+(?:parameters?|arguments?|keywords?|options?|flags?)\b"
    r"|`([A-Za-z_]\w*)`|\b([A-Za-z]\w*_\w*)\b",
    re.IGNORECASE,
)


def _as_parameters(question: str, named_only: bool = False) -> set[str]:
    """The words a question names as parameters, as tokens: before "parameter" or "argument"
    ("its blocking parameter"), or written as code ("strict_mode"); not "the file's
    permissions", though netrc takes a ``file``. Only the first kind when ``named_only``."""
    return {
        t
        for m in _AS_PARAMETER.finditer(question)
        for w in (m.groups()[:1] if named_only else m.groups())
        if w
        for t in tokenize(w)
    }


# Questions whose answer is a number, a date or a version: an answer without one is not one.
# The question word opens the question or follows one leading clause: "If you decorate a
# function with lru_cache without arguments, how many calls does it remember?"
_OPENS = (
    r"^\W*(?:(?:if|when|once|unless|while|given|in|for|after|before|since|with|without|by|on|at"
    r"|under|besides"
    r"|apart from|other than|assuming|suppose)\b[^,;:?]*[,;:]\s*)?"
    # or a preposition: "For how many days …?", "To whom …?", "Since which version …?"
    r"(?:(?:for|to|by|from|since|until|in|into|on|at|of|with|after|before|within|over)\s+)?"
)
_ASKS_NUMBER = re.compile(
    _OPENS
    + r"(?P<kind>how (?:many|much|long|old|often|far|large|big|small)|(?:in )?(?:what|which) "
    r"(?:year|version|release|date|month|day(?!\s+of\s+the\s+week)|number|percentage|size))\b",
    re.IGNORECASE,
)


def about_what_was_asked(
    question: str,
    citations: Sequence[Citation],
    text_of: Callable[[str], str],
    claims: Sequence[str] = (),
) -> bool:
    """False when the question states a number (the eighth round, the 2022 final, version 2)
    that no cited document holds (the answer is about another round, year or version), or
    asks who and the answer names only places."""
    numbers = {f for f in facts(question) if f[0].isdigit()}
    sources = {c.source for c in citations}
    if not all(
        any(f" {n} " in _document_run(text_of(source)) for source in sources) for n in numbers
    ):
        return False
    return not (_ASKS_WHO.search(question) and only_places(question, claims, sources, text_of))


def keeps_to_rare_terms(
    rare: Mapping[str, frozenset[str]], cited: Iterable[str], retrieved: Iterable[str]
) -> bool:
    """False when a word of the question that few documents use (``rare``: each word with the
    documents using it) is in a retrieved document and in no cited one. The question is about
    what that word names, the answer about something else: "Which Python version does venv
    install?" is not answered from the FAQ's "The recommended version is 3.x", which never
    names venv, while the virtual environments tutorial was retrieved."""
    cited, retrieved = set(cited), set(retrieved)
    return all(docs & cited or not docs & retrieved for docs in rare.values())


def only_places(
    question: str, claims: Sequence[str], sources: Iterable[str], text_of: Callable[[str], str]
) -> bool:
    """True when every name ``claims`` add to the question is one the ``sources`` write as a
    place ("talks in Beijing"): "Who represented China?" is not answered "Beijing hosted the
    talks", though a capital stands for its government in a headline."""
    new = names_beyond(question, claims)
    if not new:
        return False
    texts = [text_of(source) for source in sources]
    words = {w for claim in claims for w in _WORD.findall(claim) if _is_name(w)}
    places = {
        token
        for word in words
        if any(re.search(rf"\bin (?:the )?{re.escape(word)}\b", text) for text in texts)
        for token in tokenize(word)
    }
    return new <= places


def answers_the_kind_asked(question: str, claims: Sequence[str]) -> bool:
    """False when the question offers a choice the claims take no side of, asks for a number
    (how many, which year, …) and no claim states one, asks "how many days" and no claim
    speaks of days, asks for a date and no claim names a month, asks when and no claim tells
    a time or condition, or asks who (or for names) and no claim names anyone the question
    does not: the answer talks about something else."""
    text = " ".join(claims)
    if not answers_the_choice(question, claims):
        return False
    if _ASKS_NAME.search(question) and not names_beyond(question, claims):
        return False
    if _ASKS_DATE.search(question) and not _DATE.search(text):
        return False
    if _ASKS_WHEN.search(question) and not _TIME.search(text):
        return False  # "When will Wang Yi visit Pakistan?" is not answered "… in Beijing"
    counted = counted_unit(question)
    if counted and not counts_the_unit(counted, claims, set(tokenize(question))):
        return False
    kind = _ASKS_NUMBER.search(question)
    if not kind:
        return True
    if kind["kind"].lower().endswith("number") and _NAMES_A_COUNT.search(text):
        return True  # "What number does gc.collect() hand back?" "The number of objects found."
    if kind["kind"].lower() in _MEASURES and _COMPARED.search(text):
        return True  # "How long is the zipped stream?" "As long as the shortest iterable."
    words = {w for claim in claims for w in re.findall(r"[a-z]+", claim.lower())}
    # Not a number the question states ("… in 2025?"), nor, for an amount or count, the
    # years a name carries ("How much will the URAAN Pakistan plan cost?" is not answered by
    # "the URAAN Pakistan 2024–2029 plan").
    if _ASKS_AMOUNT.search(question):
        text = _YEARS.sub(" ", text)
    return bool(_numbers(text) - _numbers(question)) or bool(words & (_COUNTS | _UNBOUNDED))


_NAMES_A_COUNT = re.compile(r"\bthe (?:number|count|total) of\b", re.IGNORECASE)
# A measure may be told by what it equals or exceeds, not in numbers.
_MEASURES = frozenset(f"how {w}" for w in "long large big small far old".split())
_COMPARED = re.compile(
    r"\b(?:same (?:length|size|width|height|age|distance)|as (?:long|large|big|small|far|old)"
    r" as|(?:short|long|small|larg|bigg|high|low)(?:er|est))\b",
    re.IGNORECASE,
)
_ASKS_AMOUNT = re.compile(_OPENS + r"how (?:much|many)\b", re.IGNORECASE)
_YEARS = re.compile(r"\b(?:1[89]|20)\d\d\s*(?:[–-]|to)\s*(?:1[89]|20)?\d\d\b")


def asks_for_a_name(question: str) -> bool:
    """True when ``question`` asks who (or for names)."""
    return bool(_ASKS_NAME.search(question))


def names_beyond(question: str, claims: Sequence[str]) -> set[str]:
    """The capitalised names of ``claims`` (tokenized) that ``question`` does not state:
    "Pakistani astronauts are expected to enter the China Space Station" names no one new."""
    asked = set(tokenize(question))

    def new(token: str) -> bool:  # "Pakistan" is no new name when "Pakistani" was asked
        return not any(a.startswith(token) or token.startswith(a) for a in asked if len(a) > 3)

    return {
        token
        for claim in claims
        for word in _WORD.findall(claim)
        if _is_name(word)
        for token in tokenize(word)
        if new(token)
    }


def counted_unit(question: str, loose: bool = False) -> str:
    """What a "how many" question counts, or the unit a question asks a quantity in ("in
    nanoseconds"), stemmed; "" for any other question. "times", "ways", "kinds" and "types"
    only when ``loose``."""
    unit = ""
    if found := _HOW_MANY.search(question):
        # The first plural after "how many": "encodings" in "How many encodings come with
        # Python?", where the regex, finding no verb it knows, reaches "Python".
        words = question[found.start() : found.end(1)].split()[2:]
        unit = next((w for w in words if _PLURAL.fullmatch(w)), found[1])
    elif found := _IN_UNIT.search(question):
        unit = found[1]
    if not unit or (not loose and unit.lower() in _LOOSE_UNITS):
        return ""
    return (tokenize(unit) or [""])[-1]


def counts_the_unit(unit: str, claims: Sequence[str], asked: Set[str] = frozenset()) -> bool:
    """False when every number of the claims counts something other than ``unit`` (stemmed):
    "three days" answers no "how many hours"; "Up to three." may. The unit counts beside a
    number ("3 days", "the number of disks is 4"), past words of the question (``asked``,
    tokenized) that qualify it ("6 different pickle protocols"), not anywhere: "A multi-disk
    ZIP file can span up to 4 GiB" counts no disks."""
    for claim in claims:
        tokens = tokenize(claim)
        for i, token in enumerate(tokens):
            if not token[0].isdigit():
                continue
            following = tokens[i + 1 :]
            while len(following) > 1 and following[0] != unit and following[0] in asked:
                following = following[1:]
            after, before = following[:2], tokens[max(0, i - 2) : i]
            if unit in after or unit in before:
                return True
            if i + 1 == len(tokens) or tokens[i + 1][0].isdigit():
                return True
    return not any(t[0].isdigit() for claim in claims for t in tokenize(claim))


# "How many days did…": the counted noun is the last word before the verb.
_HOW_MANY = re.compile(
    r"\bhow many\s+(?:[\w-]+\s+){0,3}?([\w-]+)(?=\s+(?:did|do|does|is|are|was|were|will|would|can"
    r"|could|should|has|have|had|must|may|might|in|of|on|for|per|at)\b|\s*\?)",
    re.IGNORECASE,
)
_LOOSE_UNITS = ("times", "ways", "kinds", "types")
_PLURAL = re.compile(r"[A-Za-z-]*[a-rt-z]s")
# A quantity asked for in a unit of measure: "What is its resolution in nanoseconds?"
_IN_UNIT = re.compile(
    r"\b(?:in|into|as a number of) ((?:nano|micro|milli)?seconds|minutes|hours|days|weeks|months"
    r"|years|(?:kilo|mega|giga|tera)?bytes|bits|[KMGT]i?B|characters|(?:kilo|centi|milli)?"
    r"(?:meters|metres)|km|miles|feet|inches|(?:kilo)?grams|kg|tons|tonnes|percent|dollars"
    r"|rupees|yuan|euros)\b",
    re.IGNORECASE,
)
_ASKS_WHO = re.compile(_OPENS + r"(?:who|whom)\b", re.I)
_ASKS_NAME = re.compile(_ASKS_WHO.pattern + r"|\bwhat (?:is|are|was|were) the names? of\b", re.I)
_ASKS_DATE = re.compile(r"\b(?:what|which)\s+(?:exact\s+)?date\b|\bon what day\b(?!\s+of)", re.I)
_ASKS_WHEN = re.compile(
    _OPENS + r"when\b"
    # Not "when" opening a condition, the question after it: "When two events are due at the
    # same moment, which one goes first?"
    r"(?![^,;:?]*[,;:]\s*(?:what|which|who|whom|whose|how|where|why|is|are|was|were|do|does"
    r"|did|can|could|should|will|would)\b)",
    re.I,
)
# A time, or a condition: "When does the else clause of a loop run?" "When no break occurs."
_TIME = re.compile(
    rf"\b(?-i:{MONTHS}|{WEEKDAYS})\b|\b(?:1\d|20)\d\d\b|\b(?:when|whenever|while|once|if|unless"
    r"|until|till|before|after|during|since|upon|following|as soon as|ago|today|tomorrow"
    r"|yesterday|tonight|now|then|later|soon|early|earlier|next|last|previous|recently"
    r"|currently|always|never|each|every|(?:python|version|release) \d+(?:\.\d+)+"
    r"|(?:year|month|week|day|hour|minute|second|morning"
    r"|afternoon|evening|night|century|decade|time|moment)s?)\b",
    re.I,
)
_MONTHS = MONTHS.lower().split("|")
_WEEKDAYS = WEEKDAYS.lower().split("|")
_DATE = re.compile(  # a month as a name ("May", not "may"), or a date in digits
    rf"\b(?:{MONTHS})\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b"
)
_YES_NO = re.compile(
    r"^\W*(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|may|must)\b",
    re.IGNORECASE,
)


# A question offering a choice ("Does compile_command compile its input as a single statement
# or as an expression?"): the words on each side of its "or".
_CHOICE = re.compile(
    _OPENS + r"(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|may|must)"
    r"\b.*?((?:\b\w+\s+){1,4})or\s+((?:\w+\s*){1,4})\?\s*$",
    re.I,
)


def answers_the_choice(question: str, claims: Sequence[str]) -> bool:
    """False when the question offers a choice ("… as a single statement or as an
    expression?") and the claims say no word of either side: "compile_command() returned
    None" picks nothing."""
    choice = _CHOICE.search(question)
    if not choice:
        return True
    said = set(tokenize(" ".join(claims)))
    return bool(said & set(tokenize(f"{choice[1]} {choice[2]}")))


def adds_to_the_question(question: str, claims: Sequence[str]) -> bool:
    """False when no claim says a word the question did not ("The astronauts expected to
    enter the station are Pakistani astronauts"): the question restated is no answer. A
    yes/no question may be answered in its own words. Code and constants count as written:
    "__copy__()" answers "Which special method gives a class its own shallow copy?", and
    "BROWSER" "Which environment variable lists the browsers to try?"; and so do operators
    and symbols standing alone: "- and _" answer "What replaces + and / in the URL-safe
    alphabet?". Asked what is raised, "an error" or "an exception" restates the question."""
    if not question or _YES_NO.search(question):
        return True
    asked = set(tokenize(question)) | _RESTATING  # "both countries" restates "the two"
    if "rais" in asked:
        asked |= _RAISED
    written = _as_written(question)
    # A value the question has only as an order answers it: "the value 1" answers "what value
    # does the first member get?", where tokenize reads "first" as 1.
    values = _values(question)[0]
    return any(
        set(tokenize(claim)) - asked or _as_written(claim) - written or _values(claim)[0] - values
        for claim in claims
    )


def _as_written(text: str) -> set[str]:
    """The code (``__copy__``), constants (``BROWSER``) and lone symbols (``//``) ``text``
    names, as written."""
    code = {n.rstrip("()") for n in code_in(text)}
    return code | set(_CONSTANT.findall(text)) | set(_SYMBOL.findall(text))


_CONSTANT = re.compile(r"\b[A-Z][A-Z0-9_]+\b")
_SYMBOL = re.compile(r"(?<![\w.])[-+*/%_=<>!&|^~@]+(?![\w])")


# Words saying there is an answer without giving it: "gzip.open uses the default compression
# level" answers "Which level does gzip.open use unless told otherwise?" with the question.
_RESTATING = frozenset(
    ("both", "each", "either", "neither", "default", "certain", "particular", "specif",
     "specifi", "appropri", "usual")
)  # fmt: skip


_RAISED = frozenset(("error", "except"))  # stemmed: what any raise raises

_COUNTS = {w for w in NUMBER_WORDS if w not in ("one", "zero")}  # "the latest one" is no count
# A size or count may have no bound: "If maxsize is less than or equal to zero, the queue size
# is infinite" answers "What size limit does a queue get with a maxsize of zero?".
_UNBOUNDED = {"infinite", "infinity", "unlimited", "unbounded"}


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    unsupported: list[str]
    claims: list[str]  # every answer sentence, markers removed


def verify(
    raw: str,
    passages: list[Passage],
    ranked: list[Passage],
    text_of: Callable[[str], str],
    rules: SupportRules = SupportRules(),
    question: str = "",
) -> Verified:
    """Resolve every ``[n]`` marker to quotes that support its sentence, or flag the sentence.

    ``passages`` are the numbered passages the model saw; ``ranked`` the retrieved ones, best
    first. A sentence is checked against the passages it cites, then against all of them.
    """
    by_number = {p.number: p for p in passages}
    # Every sentence shown or retrieved, not just those a claim is checked against: answering
    # from one sentence, the model may still copy another about something else ("The empty
    # set is constructed by an empty pair of parentheses", the empty tuples' sentence, phrased
    # from the sets'). Read at the first claim in the passive, the only kind checked so.
    shown: list[_Candidate] = []
    citations: list[Citation] = []
    out: list[str] = []
    unsupported: list[str] = []
    claims: list[str] = []
    for sentence in _answer_sentences(raw):
        claim, numbers = parse_markers(sentence, max(by_number, default=0))
        if not tokenize(claim):
            continue  # a stray marker or punctuation
        claims.append(claim)
        cited = [by_number[n] for n in numbers if n in by_number]

        def support(pool: list[Passage], claim: str = claim) -> list[Support]:
            return find_support(claim, pool, text_of, rules, question)

        supports: list[Support] = []
        if not shown and _passive_subjects(claim):
            shown = _candidates(passages + ranked, text_of)
        if keeps_its_topic(claim, shown):
            supports = support(cited) if cited else []
            if not supports:
                seen = {p.node.node_id for p in cited}
                rest = [p for p in ranked + passages if p.node.node_id not in seen]
                supports = support(cited + rest)
        if not supports:
            unsupported.append(claim)
            out.append(claim)
            continue
        markers = []
        for found in supports:
            citation = _citation(found)
            key = (citation.source, citation.start, citation.end)
            index = next(
                (i for i, c in enumerate(citations) if (c.source, c.start, c.end) == key), None
            )
            if index is None:
                citations.append(citation)
                index = len(citations) - 1
            markers.append(index + 1)
        out.append(_with_markers(claim, markers))
    return Verified(" ".join(out), citations, unsupported, claims)


_LEADING_MARKERS = re.compile(rf"^(?:{MARKER.pattern})+")


def _answer_sentences(raw: str) -> list[str]:
    """The answer's sentences, each with its markers: "… is False. [3] It is …" is split
    after the full stop, and "[3]" belongs to the sentence before, not the one after."""
    out: list[str] = []
    for sentence in split_sentences(raw.strip()):
        text = sentence.text.strip()
        leading = _LEADING_MARKERS.match(text)
        if out and leading:
            out[-1] += " " + leading[0].strip()
            text = text[leading.end() :].strip()
        if text:
            out.append(text)
    return out


def _citation(found: Support) -> Citation:
    metadata = found.passage.node.metadata
    return Citation(
        source=found.passage.doc_id,
        title=metadata.get("title", ""),
        quote=found.span.text,
        start=found.span.start,
        end=found.span.end,
        score=round(found.score, 3),
        date=metadata.get("date") or None,
        section=found.passage.section_at(found.span.start),
    )


def quotes_only_unretrieved(verified: Verified, ranked: list[Passage]) -> bool:
    """True when no quote lies in a passage retrieved for the question.

    With the whole collection as context the model can quote anything; a true, quoted answer
    drawn only from passages retrieval did not rank answers some other question.
    """
    return not any(
        p.doc_id == c.source and lo <= c.start < hi
        for c in verified.citations
        for p in ranked
        for lo, hi in p.spans
    )


def _with_markers(claim: str, numbers: list[int]) -> str:
    tag = "".join(f"[{n}]" for n in dict.fromkeys(numbers))
    if claim and claim[-1] in ".!?":
        return f"{claim[:-1]} {tag}{claim[-1]}"
    return f"{claim} {tag}"
