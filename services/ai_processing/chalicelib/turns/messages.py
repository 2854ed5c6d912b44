"""What the assistant says itself (not composed by a model), in English and Spanish."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "handoff": {
        "en": "I'm connecting you with a person from our admissions team. "
        "They will reply here as soon as possible.",
        "es": "Le comunico con una persona de nuestro equipo de admisiones. "
        "Le responderá por aquí lo antes posible.",
    },
    "holding": {
        "en": "Sorry, I can't answer that right now. I've passed your message to a person from "
        "our admissions team, who will reply here shortly.",
        "es": "Lo siento, ahora no puedo responder. He pasado su mensaje a una persona de nuestro "
        "equipo de admisiones, que le responderá por aquí en breve.",
    },
    "no_information": {
        "en": "I'm sorry, I don't have that information in our documents. "
        "Would you like to talk to a person?",
        "es": "Lo siento, no tengo esa información en nuestros documentos. "
        "¿Quiere hablar con una persona?",
    },
    "low_confidence": {
        "en": "I'm not sure I understood. I'm passing your question to a person from our "
        "admissions team, who will reply here shortly.",
        "es": "No estoy seguro de haberle entendido. Paso su pregunta a una persona de nuestro "
        "equipo de admisiones, que le responderá por aquí en breve.",
    },
    "withheld": {
        "en": "I can help with admissions questions: deadlines, requirements, tuition, "
        "scholarships, programs, visits and application status.",
        "es": "Puedo ayudarle con preguntas de admisiones: fechas límite, requisitos, costos, "
        "becas, programas, visitas y el estado de su solicitud.",
    },
    "source": {"en": "Source", "es": "Fuente"},
    "sources": {"en": "Sources", "es": "Fuentes"},
}

OFFER_BUTTONS: dict[str, tuple[str, str]] = {
    "en": ("Talk to a person", "No, thanks"),
    "es": ("Hablar con persona", "No, gracias"),
}


def say(key: str, language: str) -> str:
    texts = TEXTS[key]
    return texts.get(language) or texts["en"]
