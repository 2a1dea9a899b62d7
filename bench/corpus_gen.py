"""A large synthetic news corpus with known answers, for benchmarks (no real collection is
available offline). Deterministic: the same seed gives the same files and questions."""

from __future__ import annotations

import json
import random
from pathlib import Path

_SYLLABLES = (
    "ka lo mir ven tos ar del quin sa ru bel dor fen gal hor is jan kel mon nor pa tir".split()
)
_MONTHS = "January February March April May June July August September October November December"
_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh".split()
_SECTORS = [
    "agriculture", "mining", "renewable energy", "shipping", "tourism", "textiles", "fisheries",
    "digital payments", "health care", "vocational education", "railways", "water management",
]  # fmt: skip
_FILLER = [
    "Officials described the atmosphere as cordial and constructive.",
    "Analysts said the outcome reflected a gradual shift in regional priorities.",
    "Local media gave the event extensive coverage throughout the week.",
    "Several observers noted that implementation would take time.",
    "A joint statement was issued at the end of the meeting.",
    "Critics argued that earlier commitments had not been fully met.",
    "The announcement was welcomed by business groups in both capitals.",
    "Further details are expected to be published in the coming months.",
    "Security was tight around the venue for the duration of the event.",
    "Residents interviewed afterwards expressed cautious optimism.",
]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _person(rng: random.Random) -> str:
    return f"{_name(rng)} {_name(rng, 3)}"


def _date(rng: random.Random) -> str:
    return f"{rng.choice(_MONTHS.split())} {rng.randint(1, 28)}, {rng.randint(2019, 2026)}"


def _talks(rng):
    a, b = _name(rng) + "ia", _name(rng) + "land"
    p1, p2, city, venue = _person(rng), _person(rng), _name(rng) + "burg", _name(rng) + "stad"
    topic = rng.choice(["trade", "security", "climate", "water", "education"])
    ordinal = rng.choice(_ORDINALS)
    s = rng.sample(_SECTORS, 3)
    body = [
        f"{a} and {b} hold {ordinal} {topic} dialogue in {city}",
        f"{a} and {b} held the {ordinal} round of their {topic} dialogue in {city} "
        f"on {_date(rng)}.",
        f"The talks were co-chaired by {a}'s foreign minister {p1} "
        f"and {b}'s foreign minister {p2}.",
        f"Both sides agreed to expand cooperation in {s[0]}, {s[1]} and {s[2]}.",
        f"The next round of the {topic} dialogue will be held in {venue}.",
    ]
    questions = [
        (f"Who co-chaired the {ordinal} round of the {a}–{b} {topic} dialogue?",
         [[p1.split()[1], p2.split()[1]]]),
        (f"Where will the next round of the {a}–{b} {topic} dialogue be held?", [[venue]]),
    ]  # fmt: skip
    return body, questions


def _project(rng):
    project, company = _name(rng), _name(rng) + " Construction"
    kind = rng.choice(["bridge", "tunnel", "railway line", "highway", "dam"])
    t1, t2 = _name(rng) + "ville", _name(rng) + "port"
    length, cost = rng.randint(3, 400), rng.randint(50, 9000)
    body = [
        f"{project} {kind} opens between {t1} and {t2}",
        f"The {project} {kind} linking {t1} and {t2} opened on {_date(rng)}.",
        f"It is {length} kilometres long and cost {cost} million dollars.",
        f"The {kind} was built by {company} over a period of {rng.randint(2, 9)} years.",
    ]
    questions = [
        (f"Which company built the {project} {kind}?", [[company.split()[0]]]),
        (f"How long is the {project} {kind}?", [[str(length)]]),
    ]
    return body, questions


def _earnings(rng):
    company, ceo = _name(rng) + " Systems", _person(rng)
    revenue, growth = rng.randint(10, 5000), rng.randint(1, 60)
    quarter = f"the {rng.choice(['first', 'second', 'third', 'fourth'])} quarter"
    body = [
        f"{company} reports revenue growth",
        f"{company} reported revenue of {revenue} million dollars for {quarter}, "
        f"up {growth} percent.",
        f"Chief executive {ceo} said demand had been stronger than expected.",
        f"The company plans to open an office in {_name(rng)}ton next year.",
    ]
    questions = [
        (f"Who is the chief executive of {company}?", [[ceo.split()[1]]]),
        (f"By how much did {company}'s revenue grow?", [[f"{growth}"]]),
    ]
    return body, questions


def _science(rng):
    uni, region, latin = f"the University of {_name(rng)}", _name(rng) + " Valley", _name(rng, 3)
    animal = rng.choice(["frog", "beetle", "orchid", "lizard", "moth", "fern"])
    body = [
        f"New {animal} species found in {region}",
        f"Researchers at {uni} discovered a new species of {animal} in {region}.",
        f"They named it {latin} after a local legend.",
        f"The team spent {rng.randint(2, 30)} months surveying the area.",
    ]
    questions = [(f"What did researchers at {uni} name the new {animal} species?", [[latin]])]
    return body, questions


def _sports(rng):
    t1, t2, player = _name(rng) + " United", _name(rng) + " Rovers", _person(rng)
    tournament = f"{_name(rng)} Cup"
    g1, g2 = rng.randint(1, 5), rng.randint(0, 1)
    body = [
        f"{t1} win the {tournament}",
        f"{t1} beat {t2} {g1}-{g2} in the {tournament} final on {_date(rng)}.",
        f"{player} scored the winning goal in the final minutes.",
        f"More than {rng.randint(5, 80)} thousand fans attended the match.",
    ]
    questions = [(f"Who scored the winning goal in the {tournament} final?", [[player.split()[1]]])]
    return body, questions


_TEMPLATES = [_talks, _project, _earnings, _science, _sports]


def generate(out: Path, documents: int = 2000, questions: int = 20, seed: int = 7) -> Path:
    """Write ``documents`` articles under ``out/docs`` and ``out/golden.jsonl``; return out."""
    marker = out / "params.json"
    params = {"documents": documents, "questions": questions, "seed": seed}
    if marker.exists() and json.loads(marker.read_text()) == params:
        return out
    rng = random.Random(seed)
    docs = out / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    candidates = []
    for n in range(documents):
        title, *sentences = (body := _TEMPLATES[n % len(_TEMPLATES)](rng))[0]
        sentences += rng.sample(_FILLER, rng.randint(3, 6))
        paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
        name = f"{n // 100:02d}/article_{n:05d}.txt"
        (docs / name).parent.mkdir(exist_ok=True)
        (docs / name).write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        candidates += [(name, q, inc) for q, inc in body[1]]
    picked = random.Random(seed + 1).sample(candidates, questions)
    with (out / "golden.jsonl").open("w", encoding="utf-8") as fh:
        for i, (name, question, must) in enumerate(picked):
            row = {"id": f"large-{i:02d}", "question": question, "answerable": True,
                   "must_include": must, "sources": [name], "tags": ["synthetic"]}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
    marker.write_text(json.dumps(params))
    return out
