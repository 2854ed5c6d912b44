"""Text normalisation shared by every detector: accent- and case-insensitive, chat spelling
expanded, elongations collapsed, common typos of a few key words repaired.

Every pattern in this package (and in the policy YAML) is written against `normalise(text)`:
lower case, no accents ("ñ" becomes "n"), straight apostrophes, single spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from parley.edit_distance import edit_distance


def _word_set(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def _pairs(spec: str) -> dict[str, str]:
    """ "u=you wanna=want_to" -> {"u": "you", "wanna": "want to"}."""
    return {k: v.replace("_", " ") for k, v in (item.split("=", 1) for item in spec.split())}


# Chat spelling and abbreviations, whole tokens only (both languages: customers code-switch).
_EXPANSIONS = _pairs(
    """
    u=you ur=your r=are pls=please plz=please plis=please pleas=please w/=with w=with bc=because
    cuz=because im=i'm ive=i've dont=don't doesnt=doesn't didnt=didn't cant=can't wont=won't
    isnt=isn't arent=aren't wasnt=wasn't youre=you're thats=that's wanna=want_to gonna=going_to
    gotta=got_to idk=i_don't_know rn=right_now ppl=people q=que k=que ke=que x=por xq=porque
    pq=porque porq=porque xfa=por_favor porfa=por_favor porfis=por_favor porfavor=por_favor
    tmb=tambien tb=tambien d=de pa=para kiero=quiero aki=aqui nadien=nadie
    """
)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})
_ELONGATION = re.compile(r"([a-z])\1{2,}")
_ELONGATED_WORD = re.compile(r"[a-z]*([a-z])\1{2,}[a-z]*")
_SPACES = re.compile(r"[^\S\n]+")
_LINES = re.compile(r"\s*\n\s*")
_TOKEN = re.compile(r"[a-z0-9']+|w/")
_WORD = re.compile(r"[a-z]+")
_CONTENT = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

STOPWORDS = _word_set(
    """
    a an the to of for in on at by with and or but is are was were be been am do does did i me
    my you your it its this that what whats what's which who how when where why can could would
    should will please hi hello hey ok okay thanks thank so just about from not no yes if want
    need know tell get have has had there here any some one all also then than too very de la el
    los las un una y o que en por para con del al lo le les se su sus mi mis tu es son esta este
    esto estas estos eso como cuando donde cual cuanto cuanta cuantos cuantas quien porque pero
    si no ya me te nos hola gracias favor quiero necesito saber puedo puede hay tengo tiene dime
    decir o u ser estar mas muy
    """
)

_SPANISH_HINTS = _word_set(
    """
    de la el los las que y en por para con una un es mi mis tu tus su sus hola gracias quiero
    quisiera necesito como cuando donde cual cuanto cuanta porque pero ya esta estoy estas tengo
    tienen tiene hay puedo puede pueden podria alguien nadie nada asesor asesora persona humano
    agente operador llamada solicitud matricula beca favor buenas buenos muy mas soy somos hablar
    llamar otra vez se lo le les nos te del al sin todo toda bien mal ahora aqui ahi hoy eso esto
    porfa vale pues tambien solo sobre hasta desde ser estar hacer dime oye oigan dia noches
    tardes cuesta fecha limite si yo usted ustedes ella el vida ganas quien cuantos mucho poco
    voy va vas van esa ese esas esos sirve respuesta pregunta
    """
)
_ENGLISH_HINTS = _word_set(
    """
    the to of and is are you your i my what how when where can could would please hi hello
    thanks want need talk speak someone person call back this that it not don't i'm have do does
    deadline application with for just get be was were will it's that's there they he she we
    """
)
_SPANISH_ENDINGS = re.compile(
    r"[a-z]{2,}(?:cion|ciones|mente|ando|iendo|aron|ieron|arme|erme|irme|arlo|arla|amos|emos|"
    r"imos|ado|ada|ados|adas|ido|ida)$|^(?:ja){2,}j?a?$"
)
_ENGLISH_ENDINGS = re.compile(r"[a-z]{2,}(?:ing|ly|'s|'m|'t|'re|'ve|'ll|'d)$")


def fold(text: str) -> str:
    """Lower case without accents or curly apostrophes ("Él está" -> "el esta")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise(text: str) -> str:
    """The canonical form every pattern matches: folded, elongations collapsed ("sooo" -> "so",
    "pleeease" -> "please"), chat abbreviations expanded, spaces squeezed."""
    folded = _ELONGATED_WORD.sub(_collapse, fold(text))
    expanded = re.sub(r"(?<![\w/])(w/|[a-z']+)(?![\w/])", _expand, folded)
    return _LINES.sub("\n", _SPACES.sub(" ", expanded)).strip()


def _collapse(match: re.Match[str]) -> str:
    word = match.group(0)
    return word if len(set(word)) == 1 else _ELONGATION.sub(r"\1", word)


def _expand(match: re.Match[str]) -> str:
    word = match.group(0)
    return _EXPANSIONS.get(word, word)


def tokens(text: str) -> list[str]:
    """Word tokens of a normalised text."""
    return _TOKEN.findall(text)


def content_words(text: str) -> set[str]:
    """Words that carry the topic of a question: no stopwords, crude singular ("programs")."""
    words = set()
    for word in _CONTENT.findall(normalise(text)):
        if word in STOPWORDS or len(word) < 2:
            continue
        words.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return words


def detect_language(texts: Iterable[str], default: str = "en") -> str:
    """ "en" or "es" from function words, word endings and Spanish accents/marks; `default`
    when nothing tells them apart."""
    spanish = english = 0
    for text in texts:
        spanish += 2 * sum(ch in "ñáéíóú¿¡" for ch in text.lower())
        for word in _TOKEN.findall(fold(text)):
            spanish += (word in _SPANISH_HINTS) + bool(_SPANISH_ENDINGS.search(word))
            english += (word in _ENGLISH_HINTS) + bool(_ENGLISH_ENDINGS.search(word))
    if spanish == english:
        return default
    return "es" if spanish > english else "en"


def damerau_levenshtein(a: str, b: str, limit: int = 2) -> int:
    """Edit distance with transpositions (optimal string alignment), capped at `limit` + 1."""
    return edit_distance(a, b, limit)


# Real words one edit away from a key word: never "repaired".
_NEAR_MISSES = frozenset({"personal", "personas", "persons", "advisory", "humane", "agents"})


def repair_typos(text: str, vocabulary: Sequence[str], min_length: int = 5) -> str:
    """Replace each word within one edit of a `vocabulary` word ("persn" -> "person",
    "huamn" -> "human"). Only targets of `min_length` letters or more are considered, so short
    words are never bent into key words."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < min_length - 1 or word in vocabulary or word in _NEAR_MISSES:
            return word
        for target in vocabulary:
            if len(target) >= min_length and damerau_levenshtein(word, target, 1) <= 1:
                return target
        return word

    return _WORD.sub(fix, text)


def mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with each span replaced by spaces (offsets of other matches stay valid)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
