"""The English + Spanish valence lexicon of the offline sentiment analyser.

Valences run from -4 (furious) to +4 (delighted), in the spirit of VADER; anger and frustration
words weigh more than worry or sadness, because the escalation question is "is this customer
angry or fed up with us", not "is this message sad". Keys are normalised (no accents) and looked
up by skeleton (doubled letters collapsed), so "realy", "anoying" and "pissed" all hit.
"""

from __future__ import annotations

import re

_NEGATIVE = """
angry -2.8  furious -3.5  mad -2.2  pissed -3.0  livid -3.5  outraged -3.5  annoyed -2.0
annoying -2.2  irritated -2.0  irritating -2.0  frustrated -2.6  frustrating -2.6
ridiculous -2.6  unacceptable -3.0  outrageous -3.0  terrible -2.6  horrible -2.6  awful -2.6
worst -3.0  useless -2.6  pathetic -3.0  disgusting -3.0  incompetent -3.0  nonsense -2.0
hate -3.0  disappointed -2.0  disappointing -2.0  upset -2.0  bad -1.5  poor -1.0
broken -1.5  crashed -1.5  crashes -1.5  deleted -1.0  wrong -1.0  error -1.0  stuck -1.5
confusing -1.5  confused -1.0  worried -1.0  nervous -0.8  stressed -1.0  scared -1.2
sad -1.5  damn -1.5  hell -1.2  wtf -2.6  shit -2.6  crap -2.0  bs -2.0  fuck -2.8
fucking -2.0  sucks -2.6  scam -3.0  rude -2.6  liars -3.0  lied -2.5  ignored -2.2
ignoring -2.2  ugh -1.5  smh -1.5  seriously -1.0  unbelievable -2.5  disaster -3.0
joke -1.0  waiting -0.5  insane -1.2  unprofessional -3.0  nightmare -3.0  mess -2.0
garbage -3.0  trash -2.6  stupid -2.6  dumb -2.2  clueless -2.2  lame -1.5  slow -1.0
enojado -2.8  enojada -2.8  enojo -2.5  enfadado -2.8  enfadada -2.8  molesto -2.2
molesta -2.2  molestia -1.5  furioso -3.5  furiosa -3.5  harto -3.0  harta -3.0
hartos -3.0  frustrado -2.6  frustrada -2.6  frustrante -2.6  indignado -3.0  indignada -3.0
indignante -3.0  ridiculo -2.6  inaceptable -3.0  pesimo -3.0  pesima -3.0  pesimos -3.0
fatal -2.5  malo -1.5  mala -1.5  mal -1.2  peor -2.5  inutil -2.6  desastre -3.0
verguenza -1.0  porqueria -3.0  mierda -3.0  joder -2.2  carajo -2.2  chingada -2.6
decepcionado -2.0  decepcionada -2.0  decepcion -2.0  triste -1.5  preocupado -1.0
preocupada -1.0  nervios -0.5  nerviosa -0.8  nervioso -0.8  miedo -1.0  estresado -1.0
estresada -1.0  estafa -3.0  mentira -2.0  mentirosos -3.0  grosero -2.6  grosera -2.6
caido -1.0  caida -1.0  esperando -0.5  odio -3.0  incompetentes -3.0  lamentable -2.6
absurdo -2.2  impresentable -3.0  cansada -1.2  cansado -1.2  ignoran -2.2
"""
_POSITIVE = """
good 1.9  great 3.0  amazing 3.0  awesome 3.0  excellent 3.0  perfect 2.5  love 3.0
loved 3.0  thanks 1.0  thank 1.0  thx 1.0  helpful 2.0  nice 2.0  cool 1.5  happy 2.5
glad 2.0  excited 2.5  wonderful 3.0  fantastic 3.0  beautiful 2.5  best 2.5  yay 2.0
appreciate 2.0  easy 1.0  fine 0.8  ok 0.3  okay 0.3  lit 1.5  helps 1.5  exactly 0.5
interesting 1.0  sure 0.3  wow 0.8  gracias 1.0  genial 3.0  excelente 3.0  perfecto 2.5
perfecta 2.5  bueno 1.5  buena 1.5  bien 1.0  chido 2.5  guay 2.5  chevere 2.5  bacan 2.5
increible 2.5  maravilloso 3.0  emocionado 2.5  emocionada 2.5  feliz 2.5  contento 2.5
contenta 2.5  encantado 2.5  encantada 2.5  util 2.0  amable 2.0  vale 0.5  lindo 2.0
hermoso 2.5  ayudado 1.5  agradezco 2.0  agradecida 2.0  agradecido 2.0
"""

# Multi-word expressions, matched on the normalised text before single words.
PHRASES: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern), valence)
    for pattern, valence in (
        (r"\bthanks? (?:you )?for nothing\b", -3.2),
        (r"\b(?:muchas )?gracias por nada\b", -3.2),
        (r"\bfed up\b", -3.0),
        (r"\bsick (?:and tired )?of\b", -3.0),
        (r"\b(?:this|that|it) is a joke\b", -2.6),
        (r"\bwaste of (?:my )?time\b", -2.6),
        (r"\bwhat the (?:hell|heck|fuck)\b", -2.6),
        (r"\bpissed off\b", -3.5),
        (
            r"\b(?:are you|you've got to be|you have to be|you must be) kidding\b|\bkidding me\b",
            -2.5,
        ),
        (
            r"\b(?:es|esto es|que) (?:un chiste|una broma|una burla)\b|\btomadura de pelo\b|"
            r"\bme (?:estan|estas) tomando el pelo\b|\bvaya tela\b|\bmala onda\b|\ben serio\?",
            -2.5,
        ),
        (
            r"\b(?:so |totally |completely )?done with (?:this|you|it|the|your)\b|\bi'm done\b|"
            r"\bover it\b",
            -2.6,
        ),
        (
            r"\bsin (?:respuesta|funcionar|contestar|solucion)\b|\bno me (?:responden|contestan|"
            r"resuelven)\b",
            -1.5,
        ),
        (
            r"\b(?:called|emailed|written|texted|messaged|tried|llame|escribi|mande|intente)\b"
            r"(?:\s+\S+){0,3}?\s+(?:\d+|two|three|four|five|several|many|so many|tres|cuatro|cinco|"
            r"varias|mil) (?:times|veces|emails|correos|mensajes)\b",
            -1.5,
        ),
        (
            r"\b(?:nobody|no one)\b(?:\s+\S+){0,4}?\s+(?:answers?|answered|repl(?:y|ies|ied)|"
            r"respond(?:s|ed)?|help(?:s|ed)?|calls? back|gets? back|cares?)\b",
            -2.2,
        ),
        (
            r"\bnadie (?:me |nos |te )?(?:ha |han )?(?:respond\w*|contest\w*|dice|dijo|ayud\w*|"
            r"confirm\w*|atiend\w*|hace caso|llam\w*|resuelve)\b",
            -2.2,
        ),
        (r"\bhasta (?:la madre|las narices|el gorro|la coronilla|el moño|los huevos)\b", -3.2),
        (r"\b(?:me tienen|estoy|ya estoy) hart[oa]s?\b", -3.2),
        (r"\b(?:and )?now (?:you|they) (?:say|tell me|are saying|want)\b", -1.5),
        (
            r"\bwhy (?:does|is|won't|doesn't|can't|do) (?:nobody|no one|anyone|anybody)\b|"
            r"\bpor que nadie\b",
            -1.0,
        ),
        (
            r"\b(?:me canse|ya me canse|estoy cansad[oa]|tired of|sick of) (?:de )?(?:esperar|"
            r"waiting|llamar|calling|escribir|writing|preguntar|asking)\b",
            -2.8,
        ),
        (r"\b(?:flipo|flipando|alucino|alucinando) con\b", -1.5),
        (r"\blo mal que\b|\b(?:que |muy )?mal servicio\b|\bmalisim[oa]\b|\bque bronca\b", -2.0),
        (r"\b(?:hace|for|desde hace) (?:dias|dias y dias|semanas|meses|days|weeks|months)\b", -1.0),
        (
            r"\b(?:ya van|van|llevo|it's been) (?:\d+|dos|tres|cuatro|cinco|two|three|four|five) "
            r"(?:correos|emails|llamadas|calls|mensajes|messages|intentos|tries)\b",
            -1.5,
        ),
        (r"\bfalta de respeto\b|\bfalta de seriedad\b|\bno tienen respeto\b", -2.6),
        (
            r"\b(?:losing|lost|running out of|out of) (?:my |all )?patience\b|"
            r"\b(?:perdiendo|perdi) la paciencia\b|\bse me (?:acaba|acabo) la paciencia\b",
            -2.8,
        ),
        (r"\b(?:es|que|vaya) (?:una )?verguenza\b", -2.6),
        (r"\bno puede ser\b", -1.5),
        (r"\b(?:no funciona|doesn't work|isn't working|not working|no sirve)\b", -1.5),
        (r"\b(?:llevo|llevamos) (?:un|una|dos|tres|\d+) (?:mes|meses|semana|semanas|dias)\b", -1.5),
        (r"\b(?:been|i've been) waiting\b", -1.5),
        (
            r"\b(?:it's been|ya van|van|ya paso|paso) (?:\d+|a|an|one|over a|more than a|two|"
            r"three|four|five|six|un|una|dos|tres|cuatro) (?:weeks?|months?|days|semanas?|mes|"
            r"meses|dias)\b",
            -1.5,
        ),
        (r"\b(?:again|otra vez|de nuevo|yet again|once again|una vez mas)\b", -0.5),
        (r"\b(?:still|todavia|aun) (?:shows?|says?|nothing|no|waiting|sin|aparece)\b", -1.0),
        (r"\bno problem\b|\bno worries\b|\bno te preocupes\b", 0.5),
        (r"\bvale la pena\b", 1.5),
        (r"\bme encanta\b", 3.0),
        (r"\bcome on\b", -1.0),
        (r"\bmala atencion\b|\bpesimo servicio\b|\bterrible service\b", -1.0),
    )
)

INTENSIFIERS = """
very 1.3  so 1.3  really 1.3  super 1.3  extremely 1.5  absolutely 1.4  totally 1.3
completely 1.3  incredibly 1.4  such 1.2  too 1.2  fucking 1.4  insanely 1.3  truly 1.2
muy 1.3  re 1.3  demasiado 1.3  totalmente 1.3  sumamente 1.5  mega 1.3  ultra 1.3  tan 1.2
bien 1.2  bastante 1.2  realmente 1.3  completamente 1.3  muchas 1.2  tremendo 1.3
beyond 1.5  extremadamente 1.5  hella 1.3  literally 1.1  sooo 1.3
"""
# Word stems for inflected forms the table lacks ("frustrating", "hartando", "cabreadísimo").
STEMS = """
frustrat -2.6  frustr -2.6  annoy -2.2  infuriat -3.5  enrag -3.5  exasperat -2.5
disappoint -2.0  unacceptabl -3.0  ridicul -2.6  absurd -2.2  terribl -2.6  horribl -2.6
incompeten -3.0  enoj -2.8  enfad -2.8  hart -3.0  molest -2.2  indign -3.0  cabrea -3.0
encabron -3.0  emputad -3.0  inaceptabl -3.0  pesim -3.0  decepcion -2.0  desesper -2.0
"""
DAMPENERS = """
bit 0.6  kinda 0.6  kind 0.6  slightly 0.6  somewhat 0.7  little 0.6  poco 0.6  algo 0.7
medio 0.7  sorta 0.6
"""
EMOJI = """
😡 -3.0  🤬 -3.5  😤 -2.5  😠 -2.6  🙄 -1.5  😒 -1.5  😞 -1.5  😢 -1.0  😭 -1.0  😩 -1.2
😫 -1.5  🤦 -1.5  👎 -2.0  🙃 -0.5  😑 -1.0  😐 -0.5  💢 -2.5  😂 1.0  🤣 1.0  😅 0.5
😍 2.5  🥰 2.5  🎉 2.0  👍 1.0  🙏 0.5  😊 2.0  😀 2.0  😁 2.0  🙂 1.0  ❤ 2.0  🔥 1.5
💯 1.5  🥳 2.5  ✨ 1.0  🤩 2.5  👏 1.5
"""
EYE_ROLL = frozenset({"🙄", "🙃", "😒", "😑"})

LAUGHTER = re.compile(
    r"\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|jaja\w*|jeje\w*|jsjs\w*|xd)\b|😂|🤣|😅|💀"
)

# Figures of speech about dying or killing, and other idioms that carry no anger or danger.
# They are blanked before scoring (and before the safety topics); the value is their valence.
FIGURES_OF_SPEECH: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(pattern), valence)
    for pattern, valence in (
        (r"\b(?:is|are|was|were|'s|'re) (?:\w+ )?killing me\b", 0.0),
        (r"\bkill(?:s|ing|ed)? (?:it|them)\b", 1.5),
        (r"\b(?:would|could|i'd) (?:literally )?kill for\b", 1.0),
        (r"\bkill two birds\b", 0.0),
        (r"\b(?:dying|die) (?:to|for)\b|\bto die for\b", 1.5),
        (
            r"\b(?:my |his |her )?(?:mom|mum|mother|dad|father|parents|family|grandma|abuela) "
            r"(?:is |are |will |'s |'ll )?(?:going to|gonna|will) kill me\b",
            0.0,
        ),
        (
            r"\bme muero (?:de|por) (?:ganas|risa|la risa|hambre|sueno|nervios|calor|frio|amor|"
            r"envidia|verguenza|emocion|curiosidad|ver|saber|conocer|empezar|entrar)\b",
            1.0,
        ),
        (r"\bmuert[oa] de (?:risa|hambre|sueno|cansancio|miedo|verguenza|calor|frio)\b", 0.0),
        (r"\b(?:me|nos) (?:esta|estan) matando\b", 0.0),
        (
            r"\bmi (?:mama|papa|madre|padre|familia|vieja|viejo|jefa|jefe|abuela) me (?:va|van) a "
            r"matar\b",
            0.0,
        ),
        (r"\bme mata(?:n)? (?:la|el|los|las|este|esta|estos|estas)\b", 0.0),
        (r"\bi'?m dead\b|\bdead tired\b|\bliterally dead\b", 0.0),
    )
)


def skeleton(word: str) -> str:
    """The word with doubled letters collapsed ("really" -> "realy")."""
    return re.sub(r"(.)\1+", r"\1", word)


def _table(spec: str) -> dict[str, float]:
    items = spec.split()
    return {
        skeleton(word): float(value) for word, value in zip(items[::2], items[1::2], strict=True)
    }


VALENCE = {**_table(_POSITIVE), **_table(_NEGATIVE)}
INTENSIFIER = _table(INTENSIFIERS)
DAMPENER = _table(DAMPENERS)
EMOJI_VALENCE = _table(EMOJI)
STEM_VALENCE = _table(STEMS)


def valence(word: str) -> float:
    """A word's valence: the table, else the first matching stem (words of 5+ letters)."""
    key = skeleton(word)
    if key in VALENCE:
        return VALENCE[key]
    if len(word) >= 5:
        for stem, value in STEM_VALENCE.items():
            if key.startswith(stem):
                return value
    return 0.0
