"""What the local engine says, in English and Spanish, and how it recognises small talk and a
request for a person (lexicons over accent-folded words)."""

from __future__ import annotations

import re

from chalicelib.knowledge.language import Language, fold, tokens


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


Kind = str  # "greeting" | "thanks" | "goodbye"

_SMALL_TALK: dict[Kind, tuple[str, ...]] = {
    "greeting": (
        "hi", "hello", "hey", "hiya", "good morning", "good afternoon", "good evening",
        "hola", "buenos dias", "buen dia", "buenas tardes", "buenas noches", "buenas", "saludos",
    ),
    "thanks": (
        "thanks", "thank you", "thx", "ty", "much appreciated", "appreciate it",
        "gracias", "muchas gracias", "mil gracias", "se agradece",
    ),
    "goodbye": (
        "bye", "goodbye", "bye bye", "see you", "see you later", "good night", "take care",
        "adios", "hasta luego", "hasta pronto", "hasta manana", "chao", "chau", "nos vemos",
    ),
}  # fmt: skip
_POLITE = _wordset(
    """
        ok okay great perfect cool very so much a lot that s all for your help you muy todo
        eso es por su tu ayuda perfecto vale genial bueno there again y and
    """
)
_PERSON = re.compile(
    r"\b(human|person|someone|somebody|real agent|an agent|live agent|representative|advisor|"
    r"adviser|counselor|operator|staff member|persona|humano|alguien|asesor|asesora|agente|"
    r"representante|consejero|operador)\b"
)
_PERSON_VERB = re.compile(
    r"\b(talk|speak|chat|connect|transfer|call|contact|want|need|get|hablar|comunicar|"
    r"conectar|quiero|necesito|pasar|contactar|llamar|hable)\b"
)

REPLIES: dict[str, dict[Language, str]] = {
    "greeting": {
        "en": "Hello! I'm the admissions assistant. How can I help you today?",
        "es": "¡Hola! Soy el asistente de admisiones. ¿En qué puedo ayudarle hoy?",
    },
    "thanks": {
        "en": "You're welcome! Is there anything else I can help you with?",
        "es": "¡Con gusto! ¿Hay algo más en lo que pueda ayudarle?",
    },
    "goodbye": {
        "en": "Goodbye, and good luck! Write any time if you have more questions.",
        "es": "¡Hasta luego y mucha suerte! Escríbanos cuando tenga más preguntas.",
    },
    "out_of_scope": {
        "en": "I'm sorry, I can only help with questions about admissions, programs, costs and "
        "campus visits. Would you like to talk to a person?",
        "es": "Lo siento, solo puedo ayudar con preguntas sobre admisiones, programas, costos y "
        "visitas al campus. ¿Quiere hablar con una persona?",
    },
    "handoff": {
        "en": "I'm connecting you with a person from our team. They will reply here shortly.",
        "es": "Le comunico con una persona de nuestro equipo. Le responderá aquí en breve.",
    },
    "unknown": {
        "en": "I'm sorry, I couldn't find that in our information. Would you like me to connect "
        "you with a person?",
        "es": "Lo siento, no encontré esa información. ¿Quiere que le comunique con una persona?",
    },
    "tool_error": {
        "en": "I'm sorry, I couldn't complete that right now. Would you like to talk to a person?",
        "es": "Lo siento, no pude completarlo en este momento. ¿Quiere hablar con una persona?",
    },
    "tool_result": {"en": "Here is what I found:", "es": "Esto es lo que encontré:"},
    "source": {"en": "Source", "es": "Fuente"},
    "sources": {"en": "Sources", "es": "Fuentes"},
    "foreign": {
        "en": "(from our Spanish-language information)",
        "es": "(según nuestra información en inglés)",
    },
}


def reply(kind: str, language: Language) -> str:
    return REPLIES[kind][language]


def _normalise(text: str) -> str:
    return " ".join(fold(word) for word in tokens(text))


_SPANISH = _wordset(
    """
        hola buenos buen buenas saludos gracias muchas mil agradece adios hasta chao chau
        nos
    """
)


def small_talk_language(text: str) -> Language | None:
    """Spanish when a short message uses Spanish small-talk words (`Gracias`), else None."""
    words = _normalise(text).split()
    return "es" if any(word in _SPANISH for word in words) else None


def small_talk(text: str) -> Kind | None:
    """The small-talk kind when the message is nothing else (`hi, when is the deadline?` is not
    small talk: it is a question). Goodbye wins over thanks, thanks over a greeting."""
    rest = f" {_normalise(text)} "
    found: list[Kind] = []
    for kind, phrases in _SMALL_TALK.items():
        for phrase in sorted(phrases, key=len, reverse=True):
            if f" {phrase} " in rest:
                rest = rest.replace(f" {phrase} ", " ")
                found.append(kind)
    if not found or any(word not in _POLITE for word in rest.split()):
        return None
    for kind in ("goodbye", "thanks", "greeting"):
        if kind in found:
            return kind
    return None


def wants_person(text: str) -> bool:
    """`I want to talk to a person`, `¿puedo hablar con un asesor?`, `human please`."""
    words = _normalise(text)
    if not _PERSON.search(words):
        return False
    return bool(_PERSON_VERB.search(words)) or len(words.split()) <= 3
