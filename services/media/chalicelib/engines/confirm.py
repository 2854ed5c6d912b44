"""What the customer is told about their media, in their language (English and Spanish), and the
low-confidence rule: a transcript below the threshold is confirmed with the customer."""

from __future__ import annotations

from parley.media_understanding import Transcript, primary_language

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "confirm": 'I heard: "{text}". Is that right?',
        "cannot_listen": "I can't listen to this one, could you type it?",
        "too_short": "That voice note was too short for me to hear anything. Could you type it?",
        "too_long": (
            "That recording is longer than I can listen to ({minutes} min at most). "
            "Could you send a shorter one or type it?"
        ),
        "empty_audio": "I couldn't make out any words in that recording. Could you type it?",
        "empty_image": "I couldn't find any text in that image. Could you tell me what you need?",
        "empty_document": "I couldn't find any text in that document. Could you type the part "
        "you need help with?",
        "unreadable": "I couldn't open that file. Could you send it again or type the part you "
        "need help with?",
        "unsupported": "I received your file, but I can't read this type. Could you type what "
        "you need?",
    },
    "es": {
        "confirm": 'Entendí: "{text}". ¿Es correcto?',
        "cannot_listen": "No puedo escuchar este audio, ¿podrías escribirlo?",
        "too_short": "La nota de voz fue demasiado corta para entender algo. ¿Podrías escribirlo?",
        "too_long": (
            "La grabación es más larga de lo que puedo escuchar ({minutes} min como máximo). "
            "¿Podrías enviar una más corta o escribirlo?"
        ),
        "empty_audio": "No pude distinguir palabras en la grabación. ¿Podrías escribirlo?",
        "empty_image": "No encontré texto en la imagen. ¿Podrías decirme qué necesitas?",
        "empty_document": "No encontré texto en el documento. ¿Podrías escribir la parte con la "
        "que necesitas ayuda?",
        "unreadable": "No pude abrir el archivo. ¿Podrías enviarlo de nuevo o escribir la parte "
        "con la que necesitas ayuda?",
        "unsupported": "Recibí tu archivo, pero no puedo leer este tipo. ¿Podrías escribir lo "
        "que necesitas?",
    },
}


def message(name: str, language: str | None, **values: object) -> str:
    """The named message in the customer's language (English when it is neither en nor es)."""
    texts = MESSAGES.get(primary_language(language)) or MESSAGES["en"]
    return texts[name].format(**values)


def needs_confirmation(transcript: Transcript, threshold: float) -> bool:
    """Whether to ask "I heard: …, is that right?" (a threshold of 0 never asks)."""
    return bool(transcript.text) and transcript.confidence < threshold


def confirmation(transcript: Transcript, language: str | None) -> str:
    """The confirmation question, in the transcript's language (else the session's)."""
    return message(
        "confirm", primary_language(transcript.language) or language, text=transcript.text
    )
