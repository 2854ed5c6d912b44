"""How the local engine recognises small talk (greetings, thanks, goodbyes, with emoji and slang),
the fillers around a question (`tengo una pregunta`, `quick question`) and a request for a person,
in English and Spanish; and what it says (the business profile's `ai.*` texts).

Words are accent-folded and letters repeated for emphasis are squeezed (`holaaa`, `buenass`,
`thxxx`), so the lexicons hold each word once.
"""

from __future__ import annotations

import re
from functools import cache

from chalicelib.knowledge.language import Language, fold
from parley import business_profile


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


Kind = str  # "greeting" | "thanks" | "goodbye"

_SMALL_TALK: dict[Kind, tuple[str, ...]] = {
    "greeting": (
        "hi", "hello", "hey", "heya", "hiya", "howdy", "yo", "sup", "whats up", "good morning",
        "good afternoon", "good evening", "morning", "hi there", "hello there", "hey there",
        "greetings", "how are you", "how r u", "hows it going",
        "hola", "ola", "buenos dias", "buen dia", "buenas tardes", "buenas noches", "buenas",
        "saludos", "que tal", "como estas", "como esta", "hola que tal", "que onda", "holi",
        "emoji_wave",
    ),
    "thanks": (
        "thanks", "thank you", "thank u", "thx", "tx", "ty", "tysm", "thanks a lot",
        "much appreciated", "appreciate it", "cheers", "great thanks",
        "gracias", "muchas gracias", "mil gracias", "se agradece", "grax", "grasias", "graciass",
        "emoji_thanks",
    ),
    "goodbye": (
        "bye", "goodbye", "bye bye", "byee", "see you", "see ya", "see you later", "cya",
        "later", "good night", "take care", "ciao", "have a nice day", "have a good day",
        "adios", "hasta luego", "hasta pronto", "hasta manana", "chao", "chau", "nos vemos",
        "cuidate", "que tenga buen dia",
    ),
}  # fmt: skip
_POLITE = _wordset(
    """
        ok okay okey k great perfect cool nice awesome very so much a lot that s all for your
        help you muy todo eso es por su tu ayuda perfecto vale genial bueno listo there again
        y and no yes si oh ah well super excelente the info information la informacion
        emoji_other
    """
)
# Openers and fillers that carry no question: dropped from a burst (and from the search query).
_FILLERS = (
    "i have a question", "i have a quick question", "quick question", "a question",
    "one question", "one more question", "another question", "i have another question",
    "can i ask something", "can i ask you something", "can i ask a question", "i need help",
    "i need some help", "i need information", "i want to ask", "id like to ask", "question",
    "one more thing", "also", "so", "um", "hmm", "please", "pls", "plz",
    "tengo una pregunta", "tengo una consulta", "tengo otra pregunta", "tengo una duda",
    "una pregunta", "una consulta", "otra pregunta", "otra cosa", "una duda", "pregunta",
    "consulta", "quisiera preguntar", "quiero preguntar", "puedo preguntar algo",
    "puedo hacer una pregunta", "necesito ayuda", "necesito informacion", "quiero informacion",
    "ayuda", "por favor", "porfa", "oye", "mira", "pues", "bueno",
)  # fmt: skip
_EMOJI = {
    "emoji_wave": "👋🙋🤗",
    "emoji_thanks": "🙏🤝💐🙌",
    "emoji_other": "😀😃😄😁😊🙂😉👍👌✨❤💙💚🎉😍🥰😎☺👏🌞☀🌸💯🤩😇️",
}
_PERSON = re.compile(
    r"\b(human|person|someone|somebody|real agent|an agent|live agent|representative|advisor|"
    r"adviser|counselor|operator|staff member|persona|humano|alguien|asesor|asesora|agente|"
    r"representante|consejero|operador)\b"
)
_PERSON_VERB = re.compile(
    r"\b(talk|speak|chat|connect|transfer|call|contact|want|need|get|hablar|comunicar|"
    r"conectar|quiero|necesito|pasar|contactar|llamar|hable)\b"
)
_BARE_REQUEST = _wordset("a an un una el la real please pls por favor now ahora")
_SPANISH = _wordset(
    """
        hola ola holi buenos buen buenas saludos gracias muchas mil agradece adios hasta chao
        chau nos vemos grax grasias cuidate que tal como estas onda manana pregunta consulta
        tengo una duda otra quisiera preguntar ayuda favor porfa oye mira
    """
)


def reply(kind: str, language: str, **fields: object) -> str:
    """The business profile's text `ai.<kind>`."""
    return business_profile.say(f"ai.{kind}", language, **fields)


def _squeeze(word: str) -> str:
    """`holaaa` -> `hola`, `thxxx` -> `thx`, `buenass` -> `buenas`: letters repeated three times
    or more are one; a doubled final letter is one (`byee`, `buenass`), except in `ll`/`rr`."""
    word = re.sub(r"(.)\1{2,}", r"\1", word)
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lr":
        word = word[:-1]
    return word


_POLITE_SPELT = frozenset(_squeeze(w) for w in _POLITE)


def normalise(text: str, *, squeeze: bool = True) -> str:
    """Accent-folded, squeezed words with emoji as `emoji_*` words (`¡Holaaa! 👋` -> `hola
    emoji_wave`)."""
    for name, characters in _EMOJI.items():
        for character in characters:
            text = text.replace(character, f" {name} ")
    words = re.findall(r"[a-z0-9_]+", fold(text.lower().replace("'", "").replace("\u2019", "")))
    if not squeeze:
        return " ".join(words)
    return " ".join(_squeeze(w) if not w.startswith("emoji_") else w for w in words)


def small_talk_language(text: str) -> Language | None:
    """Spanish when a short message uses Spanish small-talk words (`Gracias`), else None."""
    words = normalise(text).split()
    return "es" if any(word in _SPANISH for word in words) else None


def _remove(rest: str, phrases: tuple[str, ...]) -> tuple[str, bool]:
    found = False
    for phrase in _squeezed(phrases):
        if f" {phrase} " in rest:
            rest = rest.replace(f" {phrase} ", " ")
            found = True
    return rest, found


@cache
def _squeezed(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The lexicon spelt as `normalise` spells messages, longest first."""
    spelt = {" ".join(_squeeze(w) for w in phrase.split()) for phrase in phrases}
    return tuple(sorted(spelt, key=len, reverse=True))


def small_talk(text: str) -> Kind | None:
    """The small-talk kind when the message is nothing else (`hi, when is the deadline?` is not
    small talk: it is a question). Goodbye wins over thanks, thanks over a greeting."""
    rest = f" {normalise(text)} "
    found: list[Kind] = []
    for kind, phrases in _SMALL_TALK.items():
        rest, hit = _remove(rest, phrases)
        if hit:
            found.append(kind)
    if not found or any(word not in _POLITE_SPELT for word in rest.split()):
        return None
    for kind in ("goodbye", "thanks", "greeting"):
        if kind in found:
            return kind
    return None


def is_filler(text: str) -> bool:
    """A message that only opens a question (`tengo una pregunta`, `quick question!`)."""
    rest, found = _remove(f" {normalise(text)} ", _FILLERS)
    rest, _ = _remove(rest, _SMALL_TALK["greeting"])
    return found and all(word in _POLITE_SPELT for word in rest.split())


def strip_opening(text: str) -> str:
    """The message without a leading greeting or filler (`Hola, ¿cuándo empiezan las clases?` ->
    `¿cuándo empiezan las clases?`); the message itself when nothing else is left."""
    words = text.split()
    for cut in range(min(len(words) - 1, 6), 0, -1):
        head = " ".join(words[:cut])
        if small_talk(head) == "greeting" or is_filler(head):
            rest = " ".join(words[cut:]).lstrip(" ,.!;:-")
            return rest or text
    return text


def wants_person(text: str) -> bool:
    """`I want to talk to a person`, `¿puedo hablar con un asesor?`, `human please`."""
    words = normalise(text, squeeze=False)
    if not _PERSON.search(words):
        return False
    if _PERSON_VERB.search(words):
        return True
    rest = _PERSON.sub(" ", words).split()  # `human please`, `un asesor por favor`
    return len(rest) <= 3 and all(w in _POLITE or w in _BARE_REQUEST for w in rest)
