"""What a question asks for, in English and Spanish: the kind of answer (an amount, a date, a clock
time, a duration, a number, a place, contact details, a procedure, a list, a definition), whether
it is a yes/no question, whether it asks about what is *not* (`which programs are not offered?`),
and its topic words (stems in both languages, weighted: words that only say what kind of answer
is wanted count half).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.knowledge.language import LANGUAGES, STOPWORDS, fold, stem, tokens
from chalicelib.providers import glossary, shorthand

Alternative = frozenset[str]  # stems that must all be in a sentence (`fecha límite`)
Term = frozenset[Alternative]  # one thing the question names, in each way it can be said


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Checked in order over the accent-folded question; the first that matches names the kind.
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        (
            "percent",
            # a rate of events (`acceptance rate`, `tasa de graduación`), not a price rate
            r"\b(?!tuition\b)\w{3,}(?:ion|ance|al|ment|ure)\s+rates?\b"
            r"|\b(?:pass|success|dropout|admit)\s+rates?\b|\bpercent(?:age)?\b|\bporcentaje\b"
            r"|\btasa\b|\bindice de \w+cion\b",
        ),
        (
            "duration",
            r"\bhow long\b|\bhow many (?:years|months|weeks|days|semesters|hours|terms)\b"
            r"|\bcuanto (?:tiempo|dura|duran|tarda|tardan)\b|\bduracion\b|\bduration\b"
            r"|\bcuant[oa]s (?:anos|meses|semanas|dias|semestres|horas)\b|\bdura\b|\btarda",
        ),
        (
            "amount",
            r"\bhow much\b|\bcosts?\b|\bprices?\b|\bexpensive\b|\bpay\b|\bcharged?\b|\bfees?\b"
            r"|\bcuanto (?:cuesta|cuestan|vale|valen|pago|sale|cobran|hay que pagar)\b"
            r"|\bprecios?\b|\bcostos?\b|\bcuesta|\bcuotas?\b|\btarifas?\b|\bpagar\b|\bmonto\b"
            r"|\bearns?\b|\bsalar(?:y|ies|io|ios)\b|\bsueldos?\b|\bganan?\b|\bganar\b",
        ),
        (
            "time",
            r"\bwhat time\b|\bat what time\b|\bwhich hours\b|\bopening hours\b|\bopen\b"
            r"|\ba que hora\b|\bque hora\b|\bq hora\b|\bhorarios?\b|\babren\b|\babierto",
        ),
        (
            "date",
            r"\bwhen\b|\bwhat date\b|\bwhich date\b|\bdeadlines?\b|\bdue\b|\bby when\b"
            r"|\bwhat day\b|\bcuando\b|\bfechas?\b|\bplazos?\b|\bvence\b|\bque dia\b",
        ),
        (
            "place",
            r"\bwhere\b|\baddress\b|\blocation\b|\blocated\b|\bdonde\b|\bdireccion\b"
            r"|\bubicacion\b|\bubicad[oa]\b",
        ),
        (
            "contact",
            r"\bphone\b|\bemail\b|\be-mail\b|\bcontact\b|\btelefono\b|\bcorreo\b|\bcontactar",
        ),
        (
            "number",
            r"\bhow many\b|\bcuant[oa]s\b|\bwhat (?:score|gpa|grade)\b|\bminimum\b|\bminim[oa]\b"
            r"|\bpuntaje\b|\bpromedio\b|\bscores?\b|\bgpa\b|\bnota\b|\bratio\b",
        ),
        (
            "howto",
            r"\bhow (?:do|can|should|would|could) (?:i|we|you|my|one)\b|\bhow to\b|\bsteps?\b"
            r"|\bprocess\b|\bprocedure\b|\bcomo (?:puedo|hago|se|solicito|aplico|obtengo|consigo"
            r"|pido|reservo|pago|reviso|me|hacer|aplicar|solicitar)\b|\bpasos?\b|\bprocedimiento"
            r"|\bproceso\b|\btramite",
        ),
        (
            "list",
            r"\bwhich\b|\bwhat (?:\w+ )?(?:programs|majors|degrees|scholarships|documents|options"
            r"|tests|types|kinds|courses|requirements)\b|\bwhat are\b|\bcuales\b|\blist\b"
            r"|\bque (?:\w+ )?(?:carreras|programas|becas|documentos|opciones|examenes|tipos"
            r"|maestrias|cursos|requisitos)\b|\blista\b",
        ),
        ("definition", r"^(?:what|que) (?:is|es|does|significa)\b|\bwhat does .* mean\b"),
    )
)
_YES_NO_EN = re.compile(
    r"^(?:is|are|do|does|did|can|could|will|would|should|may|must|have|has|am)\b"
)
_YES_NO_ES = re.compile(
    r"^(?:hay|tienen|tiene|puedo|puede|pueden|necesito|necesita|aceptan|acepta|ofrecen|ofrece|"
    r"es|son|esta|estan|se puede|debo|tengo|existe|existen|incluye|dan|piden)\b"
)
_WH_ES = re.compile(
    r"\b(?:que|cual|cuales|cuando|donde|como|cuanto|cuanta|cuantos|cuantas|quien)\b"
)
_NEGATIVE = re.compile(r"\b(?:not|don't|dont|doesn't|doesnt|aren't|arent|isn't|isnt|no)\b")
# Words that say what kind of answer is wanted, or what the customer does, not the topic.
_KIND_WORDS = _wordset(
    """
        cost costs price prices fee fees expensive pay charge charged date dates day days time
        hour hours hora horas
        when long duration start starts begin begins end ends offer offered
        offers available provide provided have has get need needed required require requirement
        cuesta cuestan costo costos precio precios cuota cuotas pagar pago fecha fechas dia dias
        dura duran tiempo empieza empiezan comienza comienzan inicio termina
        ofrecen ofrece ofrecido tienen tiene hay disponible necesito necesita requisito requisitos
        piden exigen cobran cobra cobrar sale salen vale valen
    """
)
_FILLER = _wordset(
    """
        tell know please want like need information info can could would give find question
        much many hello hi hey thanks thank ask saber quiero quisiera necesito información
        informacion favor decir puedo puede pueden gracias hola pregunta dime podría podria
        also too also then just really exactly something anything there here ok okay
        tambien también entonces pues solo alguna algun algún favor
        u ur guys lol rn pls plz btw idk omg haha hahaha jaja jajaja jeje xd porfa help ayuda
        ayudas ayudar im yall yo per hasta don whats hows wheres whens whos ive dont doesnt cant
        isnt arent wont id youre theres thats lets wanna gonna gotta hey hello hi hola buenas por
    """
)
# Verbs and words of any request (`come out`, `get back`, `happen`): they seldom name the topic.
_GENERIC = _wordset(
    """
        come comes coming came out back go goes going take takes make makes happen happens work
        works use used see look show let put keep stay try mean think feel say said tell give
        still already yet ever even anyway right exactly actually really maybe possible
        result results thing things way ways stuff kind sort lot lots whole
        llegar llega salir sale pasar pasa pasan hacer hago hace ir voy va ver dar dan dicen
        decir saber sabe quedar queda tomar toma cosa cosas forma manera algo todavia aun ya
        veo ves vemos entrar entro entra meter poner pongo sacar saco mandar mando manda
        enviar envio envia tardar tarda tardan demora demoran demorar arrancan arranca
        get gets got getting become need needs send sent sending give gives still next max
        lose losing lost perder pierdo mismo misma tengo tiene tener mande encuentro encontrar
        da doy damos dar llevo lleva llevan llevar traer traigo
    """
)
KIND_WEIGHT = 0.5
_STATISTIC = re.compile(r"\b(?:average|mean|median|typical)\b")
_CODE = re.compile(r"\b([A-Za-z]{1,3}|\d)[-+](\d+)\b")
GENERIC_WEIGHT = 0.3
CONTEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class Question:
    text: str
    kind: str | None  # "amount", "date", ... or None when nothing says
    yes_no: bool
    negative: bool  # asks about what is not (offered, accepted, required...)
    terms: tuple[Term, ...]
    weights: tuple[float, ...]  # each term's weight: 1, or KIND_WEIGHT for kind words
    said: tuple[tuple[str, ...], ...] = ()  # the words that said each term, accent-folded
    measured: Term | None = None  # what a statistic is about (`SAT` in `the average SAT score`)

    @property
    def weighted_terms(self) -> dict[Term, float]:
        return dict(zip(self.terms, self.weights, strict=True))


def analyse(text: str) -> Question:
    plain = " ".join(fold(w) for w in re.findall(r"[\w'\u2019-]+", text.lower()))
    plain = plain.replace("\u2019", "'")
    kind = next((name for name, pattern in _KINDS if pattern.search(plain)), None)
    terms: dict[Term, float] = {}
    words: dict[Term, tuple[str, ...]] = {}
    for clause, clause_weight in _clauses(text):
        for term, said in _terms(topic_words(clause)):
            words.setdefault(term, tuple(fold(w) for w in said))
            folded = [fold(w) for w in said]
            if any(w not in _KIND_WORDS and w not in _GENERIC for w in folded):
                weight = 1.0
            elif any(w in _KIND_WORDS for w in folded):
                weight = KIND_WEIGHT
            else:
                weight = GENERIC_WEIGHT
            terms[term] = max(terms.get(term, 0.0), weight * clause_weight)
    yes_no = _is_yes_no(text, plain)
    return Question(
        text=text,
        kind=kind,
        yes_no=yes_no,
        negative=bool(_NEGATIVE.search(plain)) and not yes_no,
        terms=tuple(terms),
        weights=tuple(terms.values()),
        said=tuple(words[t] for t in terms),
        measured=_measured(text, words),
    )


def _measured(text: str, said: dict[Term, tuple[str, ...]]) -> Term | None:
    """The term right after a statistic word (`average`, `median`): what the figure must be of."""
    match = _STATISTIC.search(fold(text.lower()))
    if match is None:
        return None
    following = topic_words(text[match.end() :])
    first = fold(following[0]) if following else ""
    return next((t for t, words in said.items() if first in words), None)


def _clauses(text: str) -> list[tuple[str, float]]:
    """The text's sentences, weighted: when some of them ask (end with `?`), the others are
    context (`is there a sibling discount? my brother is already there`)."""
    parts = [p.strip() for p in re.findall(r"[^.?!\n]+[.?!]*", text) if p.strip(" .?!¿¡")]
    asking = [p for p in parts if p.endswith("?")]
    if not asking or len(parts) == 1:
        return [(text, 1.0)]
    return [(p, 1.0 if p.endswith("?") else CONTEXT_WEIGHT) for p in parts]


def topic_words(text: str) -> list[str]:
    """The text's topic words, chat shorthand expanded (`u` -> `you`, `grad` -> `graduate`):
    figures the customer gives (a GPA, a score, a year) are not topic words; a code is
    (`I-20` -> `i20`)."""
    expanded = shorthand.expand(tokens(codes(text)))
    return [
        w
        for w in expanded
        if len(w) > 1 and not w.isdigit() and not _is_stopword(w) and fold(w) not in _FILLER
    ]


def codes(text: str) -> str:
    """`I-20`, `F-1`, `4+1` written as one word (`i20`), as in the documents' stems."""
    return _CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}", text)


def _terms(words: list[str]) -> list[tuple[Term, list[str]]]:
    """The question's terms with the words that said each: a glossary phrase (`fecha límite`,
    `data science`) is one term with every way to say it; any other word is its stems."""
    # The glossary stems accent-folded words; a sentence's stems hold both spellings.
    stems = {lang: [stem(fold(w), lang) for w in words] for lang in LANGUAGES}
    used = [False] * len(words)
    found: list[tuple[Term, list[str]]] = []
    for entry in glossary.entries_by_length():
        for language, phrase in entry:
            for start in range(len(words) - len(phrase) + 1):
                span = range(start, start + len(phrase))
                if any(used[i] for i in span):
                    continue
                if tuple(stems[language][start : start + len(phrase)]) == phrase:
                    said = words[start : start + len(phrase)]
                    alternatives = {frozenset(p) for _, p in entry}
                    if len(said) == 1:
                        alternatives |= {frozenset({s}) for s in word_stems(said[0])}
                    found.append((frozenset(alternatives), said))
                    for i in span:
                        used[i] = True
    for index, word in enumerate(words):
        if not used[index]:
            found.append((frozenset(frozenset({s}) for s in word_stems(word)), [word]))
    return found


def content_stems(text: str) -> set[str]:
    """The stems of the text's topic words (no stopwords, fillers or single letters)."""
    return {s for w in topic_words(text) for s in word_stems(w)}


def word_stems(word: str) -> set[str]:
    """A word's stems in both languages, as written and accent-folded."""
    return {stem(w, lang) for w in {word, fold(word)} for lang in LANGUAGES}


def _is_stopword(word: str) -> bool:
    return word in STOPWORDS["en"] or word in STOPWORDS["es"]


def _is_yes_no(text: str, plain: str) -> bool:
    if _YES_NO_EN.search(plain) or re.search(r"\b(?:is|are) there\b", plain):
        return True
    if _WH_ES.search(plain) or re.search(r"\b(?:what|which|when|where|who|how|why)\b", plain):
        return False
    return "¿" in text or ("?" in text and bool(_YES_NO_ES.search(plain)))
