"""One question, end to end: stream the model's answer, then verify it into an :class:`Answer`."""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.schema import NodeWithScore

from .context import SectionsOf, chunk_passage, passage_at
from .ingest import sentence_before, sentences_between, split_sentences
from .prompts import Passage, build_messages, fill, load_prompt, numbered_sentences, pick_messages
from .results import Answer, Citation, Usage
from .retrieve import tokenize
from .verify import (
    ASKS_VERSION,
    VERSION_NOTE,
    SupportRules,
    about_what_was_asked,
    adds_to_the_question,
    answers_the_kind_asked,
    asks_for_a_name,
    code_in,
    is_refusal,
    is_signature,
    keeps_to_rare_terms,
    names_beyond,
    names_code,
    quotes_only_unretrieved,
    verify,
)

__all__ = ["Answer", "Citation", "Generation", "Request", "Usage"]
log = logging.getLogger(__name__)
# Cosine (the embedder's) at which a sentence sharing no word with the question is still
# close enough in meaning to answer it: its paraphrase (measured, README).
_CLOSE_IN_MEANING = 0.5
# Reference documentation tells when a feature came after describing it: "Concatenate the
# tokens… This function is the inverse of split(). … New in version 3.8."


@dataclass
class Request:
    """Everything one generation needs, decided before the model runs."""

    question: str  # standalone: the rewrite of a follow-up, else what was asked
    passages: list[Passage]  # numbered, as the model sees them
    retrieved: list[NodeWithScore]  # best first
    llm: Any  # a LlamaIndex LLM
    text_of: Callable[[str], str]  # document id -> its text, as of this question
    page_of: Callable[[str, int], int | None] = lambda doc_id, offset: None  # paginated files
    sections_of: SectionsOf | None = None  # a span's section paths, by heading
    fixed: bool = False  # the passages are the whole collection, not retrieved ones
    max_tokens: int = 160
    temperature: float = 0.0
    rules: SupportRules = field(default_factory=SupportRules)  # what verification asks
    asked: str = ""  # what the user typed
    second_look: bool = True  # a refusal or an unheld answer looks again (see Settings)
    pointing: list[Passage] | None = None  # what a refusal points into (default: the passages)
    # The question's rarest words, with the documents using each (see the planner).
    rare_terms: dict[str, frozenset[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def usage_from(raw: Any) -> Usage:
    """llama.cpp's token counts (``timings`` of its last chunk or reply) as a :class:`Usage`."""
    counts = (raw.get("timings") if isinstance(raw, dict) else None) or {}
    return Usage(
        prompt_tokens=int(counts.get("prompt_n", 0)),
        cached_tokens=int(counts.get("cache_n", 0)),
        completion_tokens=int(counts.get("predicted_n", 0)),
    )


class Generation:
    """Streams the model's text for one question, then verifies it into ``.answer``.

    It holds one of the engine's slots (``release`` frees it) until it is consumed, closed,
    cancelled or dropped.
    """

    def __init__(self, request: Request, release: Callable[[], None] | None = None):
        self.request = request
        self.answer: Answer | None = None
        self._release = release
        self._cancelled = threading.Event()
        self._phrased_from: set[tuple[str, int]] = set()  # (document, sentence start) tried
        self._draft = ""  # the model's first answer, when verification refused it
        self.on_answer: Callable[[Answer], None] | None = None  # e.g. saves it

    def cancel(self) -> None:
        """Stop generating at the next token, from any thread (a client went away)."""
        self._cancelled.set()

    def _free_slot(self) -> None:
        release, self._release = self._release, None
        if release:
            release()

    def __del__(self) -> None:  # never iterated: the slot still goes back
        self._free_slot()

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self._generate()
        finally:
            self._free_slot()

    def _generate(self) -> Iterator[str]:
        r = self.request
        began = time.perf_counter()
        messages = build_messages(r.question, r.passages, retrieved=not r.fixed)
        raw, last = yield from self._stream(messages, began)
        if self._cancelled.is_set():
            return
        usage = usage_from(getattr(last, "raw", None))
        # Verified now, not at the end: a refusal, or an answer the passages do not hold as
        # written, gets a second look.
        answer = self.finish(raw) if r.second_look else None
        if answer and answer.refused and not self._cancelled.is_set():
            # Each try answers from one sentence. A refusal after all keeps what the model
            # said from the sentence it pointed at (or its draft): the fallback's is a guess.
            streamed = not is_refusal(raw, r.question)
            self._draft = "" if is_refusal(raw, r.question) else raw
            for attempt in (self._point_and_phrase, self._phrase_from_closest):
                if streamed:
                    yield "\n\n"  # text was streamed; the answer from a sentence follows
                    streamed = False
                phrased = yield from attempt()
                if self._cancelled.is_set():
                    break
                if phrased:
                    text, more, window = phrased
                    usage = usage + more
                    if text is None:  # pointed at no sentence to answer from
                        continue
                    raw = text
                    streamed = not is_refusal(raw, r.question)
                    tried = self.finish(raw, window)
                    if attempt == self._point_and_phrase or not tried.refused:
                        answer = tried
                    if not tried.refused:
                        break
        if self._cancelled.is_set():
            return
        self.answer = answer or self.finish(raw)
        r.timings["generate_s"] = time.perf_counter() - began - r.timings["verify_s"]
        self.answer.usage = usage
        if self.on_answer:
            self.on_answer(self.answer)
        log.info(
            "answered in %.2f s: %d prompt tokens (%d cached), %d generated, refused=%s",
            sum(r.timings.values()), usage.prompt_tokens + usage.cached_tokens,
            usage.cached_tokens, usage.completion_tokens, self.answer.refused,
        )  # fmt: skip

    def _point_and_phrase(self):
        """After a refusal: the model points at the sentence that answers (a label), then
        answers from that sentence and the one before it alone. On real text a small model
        refuses answers its passages hold; pointing at a sentence it does far more reliably,
        and answering from two sentences it no longer refuses (measured, README).
        Returns (text, usage, the passage it is verified against); text is None when it
        pointed at no sentence to answer from (the usage still counts the pointing)."""
        r = self.request
        listing, labels = numbered_sentences(r.pointing or r.passages, r.text_of)
        # Over the whole collection the listing is the same for every question: the engine
        # keeps it as a cached prefix, so a refusal pre-fills a short question, not ~2,000
        # tokens. It is saved on disk too, like the answer's context, and restored in a new
        # process; a restore replaces slot 0's state, so only with a single slot.
        if r.fixed and hasattr(r.llm, "ensure_prefilled") and r.llm.engine.n_parallel == 1:
            r.llm.ensure_prefilled(pick_messages("Ready?", listing), compute=False)
        pointed, usage = self._complete(pick_messages(r.question, listing), max_tokens=12)
        label = re.search(r"\d+\.\d+", pointed)
        if not label or label[0] not in labels:
            log.debug("pointed at no sentence: %r", pointed)
            return None, usage, None
        passage, sentence = labels[label[0]]
        log.debug("pointed at [%s]: %r", label[0], sentence.text)
        self._phrased_from.add((passage.doc_id, sentence.start))
        phrased = yield from self._phrase(passage, sentence)
        if phrased:
            raw, more, window = phrased
            return raw, usage + more, window
        return None, usage, None

    def _phrase_from_closest(self):
        """After pointing found nothing that holds: answer from the sentence closest in meaning
        and words (the embedder's cosine, with and without the sentence before it, plus the
        share of the words) to the question, or to the model's first answer when verification
        refused it and it restates the question, that was not tried yet. The model points away
        from the answer on paraphrased questions that the embedder still ranks first; and its
        refused draft often rests on the right sentence with the roles swapped ("Wang Yi led
        Pakistan's side"). Returns (text, usage, window) or None."""
        r = self.request
        similarity = r.rules.similarity
        if similarity is None:
            return None
        _, labels = numbered_sentences(r.pointing or r.passages, r.text_of)
        asked = set(tokenize(r.question))
        spans = [
            (passage, sentence)
            for passage, sentence in labels.values()
            if (passage.doc_id, sentence.start) not in self._phrased_from
        ]
        # A question naming code (gzip.open) is answered where that code is named, in the
        # sentence or its passage's heading: its signature, not the module's overview or the
        # command line's default further down the same page.
        code = code_in(r.question)
        naming = [
            (passage, sentence)
            for passage, sentence in spans
            if all(
                names_code(name, sentence.text, passage.heading_at(sentence.start)) for name in code
            )
        ]
        if code and naming:
            spans = naming
        if not spans:
            return None
        alone, pairs = [], []
        for passage, sentence in spans:
            before = sentence_before(r.text_of(passage.doc_id), sentence.start)
            alone.append(sentence.text)
            pairs.append(f"{before.text} {sentence.text}" if before else sentence.text)
        pair_words = [set(tokenize(pair)) for pair in pairs]
        targets = [r.question]
        drafted = set(tokenize(self._draft))
        if len(drafted & asked) * 2 >= len(asked):
            # A draft restating the question rests on some sentence; one that does not (a
            # source sentence copied whole) says nothing of where the answer is.
            targets.append(self._draft)
        scores = [0.0] * len(spans)
        for target in targets:
            wanted = set(tokenize(target))
            # A word most sentences share ("the two countries") says little of which one
            # answers: words count by their rarity among the sentences (idf).
            weight = {
                word: math.log((len(spans) + 1) / (1 + sum(word in w for w in pair_words)))
                for word in wanted
            }
            closeness = similarity(target, pairs + alone)  # one batch: the target once
            for i, words in enumerate(pair_words):
                share = sum(weight[w] for w in wanted & words) / (sum(weight.values()) or 1)
                close = max(closeness[i], closeness[len(pairs) + i])
                if not wanted & words and close < _CLOSE_IN_MEANING:
                    continue  # no word of the question, nor its meaning: no answer to it
                scores[i] = max(scores[i], close + 0.3 * share)
        if not any(scores):
            return None
        passage, sentence = spans[max(range(len(spans)), key=scores.__getitem__)]
        log.debug("closest sentence: %r", sentence.text)
        self._phrased_from.add((passage.doc_id, sentence.start))
        return (yield from self._phrase(passage, sentence))

    def _phrase(self, passage: Passage, sentence):
        """The model's answer from ``sentence``, the one before it and, in its paragraph, the one
        after it alone; returns (text, usage, the window it is verified against), or None for
        a sentence sharing neither a word nor its meaning with the question."""
        r = self.request
        text = r.text_of(passage.doc_id)
        before = sentence_before(text, sentence.start)
        start = before.start if before else sentence.start
        end = sentence.end
        passage_end = int(passage.node.metadata["end"])
        after = next(iter(sentences_between(text, end, passage_end)), None)
        if after and (is_signature(sentence.text) or "\n\n" not in text[end : after.start]):
            # A signature names an entry; the sentence after it says what the entry is or
            # does ("exception statistics.StatisticsError", then "Subclass of ValueError…").
            # Within a paragraph, the sentence after qualifies this one: "Events scheduled
            # for the same time will be executed in the order of their priority. A lower
            # number represents a higher priority."
            end = after.end
        if ASKS_VERSION.search(r.question) and not VERSION_NOTE.match(sentence.text):
            # Asked since when, the answer is the entry's version note, a few sentences on:
            # the first one after the sentence within its passage (one entry, as a heading
            # such as a function's signature starts a chunk). Pointed at a note, that one:
            # netrc's "Changed in version 3.4: Added the POSIX permission check." is not
            # followed by its 3.7 note.
            note = next(
                (s for s in sentences_between(text, end, passage_end)
                 if VERSION_NOTE.match(s.text)), None,
            )  # fmt: skip
            end = note.end if note else end
        sections = ((start, passage.section_at(start)),) + tuple(
            (at, path) for at, path in passage.sections if start < at < end
        )
        window = passage_at(passage.number, passage.node.metadata, start, end, text, sections)
        section = set(tokenize(passage.section_at(sentence.start)))
        if not (
            self._near_the_question(text[start : sentence.end])
            or section & set(tokenize(r.question))
        ):
            # A sentence sharing no word with the question, nor close to it in meaning, is no
            # answer to it: the model pointed at a dateline ("Wednesday, January 7, 2026") for
            # a launch date. A paraphrase may share none ("stay at the heart of the
            # relationship" for "remain the backbone of bilateral ties": measured on the
            # sentence and the one before it, as the sentence after dilutes the cosine). Its
            # section's words count: "The default is 9." under "bz2.compress(data,
            # compresslevel=9)" answers how hard bz2.compress squeezes when given no level.
            log.debug("the sentence pointed at shares no word or meaning with the question")
            return None
        content = window.node.get_content().replace("\n", " ")
        heading = passage.heading or passage.doc_id
        raw, usage = yield from self._phrase_with("phrase", heading, content)
        if asks_for_a_name(r.question) and not names_beyond(r.question, [raw]):
            # Asked who, the model may answer with the country it was asked about ("China
            # represented China"); told to name people as the text does, it names them. Not
            # the first prompt: that one swaps roles more often ("Wang Yi led Pakistan's side").
            if raw.strip() and not is_refusal(raw, r.question):
                yield "\n\n"
            raw, more = yield from self._phrase_with("phrase-names", heading, content)
            usage = usage + more
        marked = " ".join(f"{s.text} [{passage.number}]" for s in split_sentences(raw.strip()))
        return marked, usage, window

    def _near_the_question(self, text: str) -> bool:
        """Whether ``text`` shares a word with the question, or its meaning (the embedder's
        cosine at least ``_CLOSE_IN_MEANING``)."""
        r = self.request
        if set(tokenize(text)) & set(tokenize(r.question)):
            return True
        similarity = r.rules.similarity
        return similarity is not None and similarity(r.question, [text])[0] >= _CLOSE_IN_MEANING

    def _phrase_with(self, prompt: str, heading: str, text: str):
        """Stream the model's answer to the question from ``text`` alone, asked with the
        prompt file ``prompt``; return (text, usage)."""
        messages = [
            ChatMessage(role=MessageRole.SYSTEM, content=load_prompt("phrase-system").strip()),
            ChatMessage(
                role=MessageRole.USER,
                content=fill(
                    load_prompt(prompt), heading=heading, text=text, question=self.request.question
                ).strip(),
            ),
        ]
        raw, last = yield from self._stream(messages, time.perf_counter())
        return raw, usage_from(getattr(last, "raw", None))

    def _complete(self, messages: list[ChatMessage], max_tokens: int) -> tuple[str, Usage]:
        """The model's whole reply, not streamed to the reader."""
        text, last = "", None
        with closing(self._responses(messages, max_tokens)) as responses:
            for response in responses:
                text += response.delta or ""
                last = response
        return text, usage_from(getattr(last, "raw", None))

    def _responses(self, messages: list[ChatMessage], max_tokens: int) -> Iterator[Any]:
        """The engine's responses, a token each, until it is done or the question cancelled."""
        r = self.request
        stream = r.llm.stream_chat(messages, max_tokens=max_tokens, temperature=r.temperature)
        try:
            for response in stream:
                if self._cancelled.is_set():
                    return
                yield response
        finally:
            getattr(stream, "close", lambda: None)()  # stops the engine's generation

    def _stream(self, messages, began: float):
        """Yield the model's text as it comes, except while it may still be the refusal
        (that one is kept back: pointing at a sentence may follow); return (text, last response)."""
        r = self.request
        refusal = load_prompt("refusal").strip()
        raw, sent, last = "", 0, None
        # closing: a reader that stops reading (a closed browser tab) stops the engine too.
        with closing(self._responses(messages, r.max_tokens)) as responses:
            for response in responses:
                if response.delta:
                    if "first_token_s" not in r.timings:
                        r.timings["first_token_s"] = time.perf_counter() - began
                    raw += response.delta
                    if not refusal.startswith(raw.strip()):
                        yield raw[sent:]
                        sent = len(raw)
                last = response
        if self._cancelled.is_set():
            log.info("cancelled after %d characters", len(raw))
            return raw, last
        if sent < len(raw) and not (r.second_look and is_refusal(raw, r.question)):
            yield raw[sent:]
        return raw, last

    def finish(self, raw: str, window: Passage | None = None) -> Answer:
        """Verify the model's text into an :class:`Answer`: against the passages it saw, or
        against ``window`` alone when it answered from that."""
        r = self.request
        began = time.perf_counter()
        try:
            return self._verified(raw, window)
        finally:
            r.timings["verify_s"] = r.timings.get("verify_s", 0.0) + time.perf_counter() - began

    def _verified(self, raw: str, window: Passage | None) -> Answer:
        r = self.request
        ranked = [chunk_passage(hit.node, r.sections_of) for hit in r.retrieved]
        asked = r.asked or r.question
        answer = Answer(
            question=asked,
            rewritten=r.question if r.question != asked else None,
            text=load_prompt("refusal").strip(),
            refused=True,
            retrieved=list(dict.fromkeys(p.doc_id for p in ranked)),
            raw_text=raw,
            timings=r.timings,
        )
        if is_refusal(raw, r.question):
            log.debug("the model refused: %r", raw)
            return answer
        if r.pointing and not r.fixed:
            # The chunks of the retrieved documents a refusal may point into, ranked just below
            # those shown, count as retrieved: an answer one of them holds is cited from it, not
            # refused and asked again (the model knew "Python uses the Mersenne Twister", ranked
            # fifth on random's page). Not another document's: the glossary's "decode bytes
            # from the operating system" held no gzip header's "operating system byte".
            documents = {p.doc_id for p in ranked}
            ranked += [replace(p, number=0) for p in r.pointing if p.doc_id in documents]
        shown = [window] if window else r.passages
        # Phrased from the sentence pointed at, an answer may still be held by another passage
        # the model saw (it pointed at the sentence beside the answer), or by a chunk the
        # first answer could have been held by ("type is None if the type can't be guessed",
        # ranked below the passages shown): those count too.
        pool = [window, *r.passages, *ranked] if window else ranked
        verified = verify(raw, shown, pool, r.text_of, r.rules, r.question)
        if verified.unsupported:
            log.debug("unsupported in %r: %s", raw, verified.unsupported)
        if not verified.citations:
            answer.unsupported = verified.unsupported
            return answer  # nothing the model said is in the sources: do not pass it on
        # Not for a phrased answer: the model chose its window, which over the whole
        # collection may lie outside what retrieval ranked.
        if not window and quotes_only_unretrieved(verified, ranked):
            log.debug("refused: every quote lies outside the retrieved passages")
            return answer  # true, and quoted, but not about what was asked
        supported = [c for c in verified.claims if c not in verified.unsupported]
        if not answers_the_kind_asked(r.question, supported):
            log.debug("refused %r: not the kind of answer asked (a number, a date, a count)", raw)
            return answer
        if not adds_to_the_question(r.question, supported):
            log.debug("refused %r: it only restates the question", raw)
            return answer
        if not about_what_was_asked(r.question, verified.citations, r.text_of, supported):
            log.debug("refused: a number the question states is in no cited document, or "
                      "a place answers who")  # fmt: skip
            return answer
        cited = {c.source for c in verified.citations}
        if not keeps_to_rare_terms(r.rare_terms, cited, answer.retrieved):
            log.debug("refused: no cited document uses a rare word of the question that a "
                      "retrieved one uses")  # fmt: skip
            return answer
        answer.text = verified.text
        answer.refused = False
        answer.citations = [
            replace(c, page=r.page_of(c.source, c.start)) for c in verified.citations
        ]
        answer.unsupported = verified.unsupported
        return answer
