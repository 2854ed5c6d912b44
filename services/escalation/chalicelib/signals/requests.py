"""Explicit requests for a person, in English and Spanish.

A request is a first-person frame around a word for staff ("person", "advisor", "someone",
"asesor", "alguien", "customer service"...): talk/speak/hablar con + staff; want/need/quiero +
staff; transfer me / pásame con / me comunican con + anyone or any office; a call back ("can
someone call me", "me pueden llamar", "callback"); "someone real", "¿hay alguien ahí?", "is
anyone there"; "have an advisor contact me"; or a message that is little more than a word for
staff ("agent", "asesor", "persona real", "customer service").

Not a request: the same words negated ("I don't need a person", "no quiero que me llamen"),
questions about the staff (no frame: "do the advisors speak Spanish?"), staff words used as
the modifier of a thing ("counselor recommendation"), names of programs or topics listed in
the policy ("Human Resources Management", "advisory board"), and questions about the assistant
itself ("are you a bot or a real person?").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.signals import negation
from chalicelib.signals.models import Signal
from chalicelib.signals.policy import EscalationPolicy
from chalicelib.signals.text import mask, repair_typos

_NOUNS = (
    r"persons?|human(?: being)?s?|agents?|representatives?|reps?|operators?|advis[oe]rs?|"
    r"counsel+ors?|officers?|staff(?: members?)?|employees?|managers?|supervisors?|"
    r"consultants?|specialists?|someone(?: else)?|somebody(?: else)?|anyone|anybody|"
    r"recruiters?|team members?|real people|actual people|customer (?:service|support|care)|"
    r"support team|help ?desk|personas?|human[oa]s?|agentes?|asesor(?:a|es|as)?|"
    r"consejer[oa]s?|operador(?:a|es|as)?|ejecutiv[oa]s?|representantes?|encargad[oa]s?|"
    r"responsables?|supervisor(?:a|es|as)?|gerentes?|alguien(?: mas)?|alguna persona|"
    r"emplead[oa]s?|funcionari[oa]s?|personal de \w+|(?:atencion|servicio) al cliente|soporte|"
    r"directors?|director(?:a|es|as)?|deans?|decan[oa]s?|coordinators?|coordinador(?:a|es|as)?|"
    r"jef[ae]s?|(?:person|someone) in charge|head of \w+"
)
_DET = (
    r"(?:(?:a|an|the|some|one of your|one of the|your|any|my|un|una|el|la|al|algun|alguna|tu|"
    r"su|sus|los|las|a un|a una|a la|a el|a alguien|con)\s+)?"
)
_NOT_FILLER = (
    r"to|who|what|when|where|how|why|if|for|about|of|from|is|are|was|and|or|my|your|the|a|"
    r"an|be|become|study|work|bring|que|quien|donde|cuando|como|si|para|sobre|de|del|y|o|mi|"
    r"tu|el|la|los|las|un|una|ser|estudiar|trabajar|convertirme|llevar|traer"
)
_FILLER = rf"(?:(?!(?:{_NOT_FILLER})\b)[a-z'-]+\s+){{0,3}}?"
# A staff word used as the modifier of a thing is not a person: "counselor recommendation".
_NOT_A_PERSON = (
    r"(?!'s|\s*(?:recommendations?|letters?|reports?|forms?|signatures?|evaluations?|programs?|"
    r"resources|board|statements?|approval|codes?|fees?|visas?|portal|accounts?|reviews?|"
    r"references?|numbers?|emails?|list|recomendacion|carta|formulario|firma|programa|"
    r"evaluacion|codigo|cuenta)\b)"
)
STAFF = rf"{_DET}{_FILLER}(?:{_NOUNS})\b{_NOT_A_PERSON}"

_COMMUNICATE = (
    r"talk|talking|speak|speaking|chat|chatting|converse|communicate|discuss (?:this|it)|"
    r"deal|be in touch|get in touch|put me in touch|reach|connect|transfer|put|pass|hand|"
    r"have a word|a word|(?:video ?)?call|meet|meeting|appointment|zoom|hablar|cita|reunion|"
    r"videollamada|videollamar|platicar|conversar|comunicar|comunicarme|comunicarse|contactar|"
    r"contactarme|charlar|tratar(?: esto)?|consultar(?:lo)?|ser atendid[oa]"
)
_TRANSFER_ES = (
    r"\bme (?:comunica|comunican|comunicas|comunicaria|comunicarian|pasa|pasan|pasas|pasaria|"
    r"pasarian|transfiere|transfieren|conecta|conectan|deriva|derivan|pone|ponen|"
    r"(?:podes|puedes|puede|pueden|podrias|podria|podrian) (?:pasar|comunicar|transferir|"
    r"conectar|derivar|poner))(?:\s+\S+)?\s+(?:con|a|al)\b|"
    r"\b(?:comunicame|comuniqueme|comuniquenme|pasame|paseme|pasenme|ponme|pongame|ponganme|"
    r"transfiereme|transfierame|conectame|conecteme|derivame|comunicarme|pasarme|ponerme|"
    r"transferirme|conectarme)\s+(?:con|a|al)\b"
)
_CALL_MODAL = (
    r"can|could|would|please|someone|somebody|anyone|advisor|counselor|you|y'?all|guys|just|"
    r"have|get"
)
_FRAMES = tuple(
    re.compile(pattern)
    for pattern in (
        # talk / speak / hablar con + staff
        rf"\b(?:{_COMMUNICATE})(?:\s+me)?(?:\s+(?:back|through|over|directly|now|ya|ahora|"
        r"in person|personally|en persona|on the phone|by phone|over the phone|por telefono|"
        rf"por whatsapp|por llamada))?\s+(?:to|with|con|a|al)\s+{STAFF}",
        # someone to help me / a person, not the bot / comunicarse conmigo
        r"\b(?:alguien|someone|somebody|anyone|anybody|una persona|a person|un asesor|an advisor)"
        r" (?:me )?(?:puede|pueden|podria|can|could) (?:ayudar|help|atender|atenderme|ayudarme)\b",
        r"\b(?:a person|a human|a real person|una persona|un humano|alguien|someone|a real human)"
        r"[,. ]+(?:not|no) (?:a |the |un |el |con el |con un )?(?:bot|robot|machine|maquina|ia|ai|"
        r"chatbot|assistant|asistente)\b",
        r"\b(?:comunicarse|contactarse|ponerse en contacto|hablar|llamar(?:me)?|contactar(?:me)?|"
        r"reunirse)\s+conmigo\b",
        r"\b(?:quiero|necesito|quisiera|me gustaria|prefiero|pido|solicito|want|need|would like|"
        r"i'd like|prefer)\b(?:\s+\S+){0,3}?\s+(?:una persona|alguien|un asesor|una asesora|"
        r"un humano|un agente|a person|a human|someone|somebody|an advisor|a counselor|an agent)"
        rf"\b{_NOT_A_PERSON}",
        r"^(?:please |pls )?call me\b|\bcall me back\b",
        # want / need / quiero + staff
        r"\b(?:want|need|needs|would like|i'd like|prefer|request|requesting|asking for|"
        r"looking for|get me|give me|bring me|gimme|get|quiero|queremos|necesito|necesitamos|"
        r"quisiera|prefiero|pido|solicito|exijo|ocupo|me gustaria|busco)\s+"
        r"(?:(?:to\s+)?(?:talk|speak|chat)\s+(?:to|with)\s+|hablar\s+con\s+|"
        r"que\s+me\s+(?:atienda|conteste|responda|ayude|llame|contacte)\s+|"
        r"(?:the\s+)?(?:help|assistance|support)\s+(?:of|from)\s+|(?:ayuda|atencion|apoyo)\s+"
        rf"(?:de|por parte de)\s+)?{STAFF}",
        # "¿Me comunico con un asesor?", "who can I speak with?"
        r"(?:^|¿)\s*(?:me )?(?:comunico|hablo|puedo hablar) con\b|\b(?:who|whom) (?:can|could|"
        r"should|do) i (?:talk|speak|chat) (?:to|with)\b",
        # transfer me / pásame con / me comunican con + anyone or any office
        r"\b(?:transfer|connect|put|pass|hand|forward|redirect|route|switch) me (?:over |through "
        r"|back |directly )?(?:to|with)\b|\btransfer me\b|\bput me through\b|"
        r"\bescalate (?:this|my|me|it)\b|\bescalar (?:esto|mi caso)\b",
        _TRANSFER_ES,
        # call me (back)
        rf"\b(?:{_CALL_MODAL})\s+(?:\S+\s+){{0,5}}?(?:call|ring|phone)(?:ing)?\s+me\b",
        r"\bcall ?-?back\b|\b(?:give|get|have|receive|request|schedule|book|arrange|set up|want|"
        r"need|like|appreciate|prefer)\s+(?:me\s+)?(?:a\s+|an\s+)?(?:quick\s+)?(?:call|ring|"
        r"phone call)\b|\b(?:a |an )?(?:phone )?call (?:back )?from (?:a|an|the|your|someone|"
        r"somebody|one of)\b",
        r"\b(?:someone|somebody|a person|a human|an advisor|a counselor|an agent|a rep) on the "
        r"(?:phone|line)\b",
        r"\b(?:me\s+)?(?:pueden|puede|puedes|podes|podrian|podria|podrias|podra|podran)\s+"
        r"(?:\w+\s+)?(?:llamar|marcar|contactar|hablar)(?:me)?\b|\bllam(?:enme|ame|eme|arme)\b|"
        r"\bmarqu(?:enme|eme)\b",
        r"\b(?:devol|devuel|regres)\w*\s+la\s+llamada\b|\b(?:quiero|necesito|prefiero|solicito|pido|"
        r"me gustaria|quisiera|agendar|programar)\s+(?:una\s+)?llamada\b",
        r"\bque\s+me\s+(?:llame|llamen|llamaran|llamara|marque|marquen|contacten|contacte|"
        r"atienda|atiendan)\b",
        # someone real / is anyone there / hay alguien
        r"\b(?:someone|somebody|anyone|anybody|a person|a human|alguien|una persona|un humano|"
        r"persona|person|human)\s+(?:real|reales|de verdad|de carne y hueso|actual|irl|"
        r"who (?:actually )?works? (?:there|here|at)|que trabaje)\b",
        r"\b(?:real|actual|live)\s+(?:person|human|people|humans|agent|representative|rep|advisor|"
        r"counselor|one)\b",
        r"\b(?:is|are)\s+(?:there\s+)?(?:any|some)(?:one|body)\s+(?:even\s+)?(?:there|here|real|"
        r"reading|listening|available|in (?:the|your) office|on the other side|working)\b",
        r"\b(?:is|are) there (?:any|some)(?:one|body)\b(?:\s+\S+){0,6}?\s+(?:talk|speak|chat|"
        r"call|help)\b|\b(?:is|are) there (?:a|an|any|some)\b(?:\s+\S+){0,4}?\s+(?:i|we) "
        r"(?:can|could|may) (?:talk|speak|chat|call)\b",
        r"\b(?:anyone|someone|somebody|anybody|alguien) (?:esta |is )?(?:available|disponible)\b|"
        r"\besta alguien\b",
        r"\bhay\s+(?:alguien|alguna persona|algun asesor|alguna asesora|una persona|un asesor|"
        r"algun humano)\b(?:\s+\S+){0,4}?\s*(?:real|de verdad|ahi|aqui|disponible|con quien|"
        r"que me|hablar|atender|atienda|ayudar|ayude|contestar|en la oficina)",
        r"\bcon quien (?:pueda |puedo |podria )?hablar\b",
        r"\bme\s+(?:atiende|atienden|atienda|atiendan|puede atender|pueden atender|pueda atender)"
        r"\s+(?:alguien|una persona|un humano|un asesor|una asesora|un agente|personal)\b|"
        r"\batencion\s+(?:personal|personalizada|humana)\b",
        # have a person contact me
        r"\b(?:someone|somebody|anyone|advisor|adviser|counselor|counsellor|officer|"
        r"representative|rep|agent|person|human|staff)\b(?:\s+\S+){0,4}?\s+(?:reach out|"
        r"get in touch|get back|contact|call|ring|text)\s+(?:to\s+|with\s+)?(?:me|us)\b",
        r"\b(?:alguien|asesor|asesora|persona|humano|agente|ejecutivo|ejecutiva|representante|"
        r"encargado)\b(?:\s+\S+){0,4}?\s+(?:me|nos)\s+(?:contact|llam|escrib|atiend|busqu|"
        r"marqu|comuniq|devuelv)\w*",
        r"\bhay alguien(?: ahi| aqui| en linea)?\s*(?:\?|$)",
    )
)
_BOT = (
    r"(?:a |an |un |una )?(?:real |actual )?(?:bot|robot|person|human|ai|machine|agent|humano|"
    r"persona real|persona|ia|maquina)"
)
_ABOUT_ASSISTANT = re.compile(
    rf"\b(?:are|r) (?:you|u) {_BOT}(?: or {_BOT})?\b|"
    rf"\b(?:eres|esto es|este chat es) {_BOT}(?: o {_BOT})?\b|"
    rf"\b(?:am i|is this) (?:talking|chatting|speaking) (?:to|with) {_BOT}(?: or {_BOT})?\?|"
    rf"\bestoy hablando con {_BOT}(?: o {_BOT})?\?|\bis this {_BOT}(?: or {_BOT})?\?"
)
_ONE_WORD = re.compile(
    r"\b(?:customer (?:service|support|care)|(?:atencion|servicio) al cliente|live (?:agent|chat)"
    r"|call|phone call|call me|callback|llamada|llamame|llamenme"
    r"|real (?:person|human)|persona real|"
    r"person|human|agent|representative|rep|operator|advisor|adviser|counselor|counsellor|"
    r"manager|supervisor|staff|persona|humano|humana|agente|asesor|asesora|operador|operadora|"
    r"ejecutivo|ejecutiva|representante|consejero|consejera|gerente|soporte|support)\b"
)
_ONE_WORD_EXTRAS = re.compile(
    r"\b(?:please|por favor|now|ya|ahora|a|an|un|una|the|el|la|real|live|actual|de verdad|"
    r"talk to|speak (?:to|with)|hablar con|i want|i need|quiero|necesito|hi|hello|hola|buenas|"
    r"ok|stop|help|ayuda|urgente|urgent|asap|someone|alguien|with|con|me|i|can|puedo)\b"
)
_REQUIREMENT = re.compile(
    r"\b(?:do|does|did) (?:i|we|students?|applicants?|parents?|my \w+) (?:need|have) to\b|"
    r"\b(?:is it necessary to|es necesario|es obligatorio|tengo que|tenemos que|hay que|debo|"
    r"debemos|must i|should i)\b"
)
_TYPO_VOCABULARY = (
    "person", "human", "agent", "representative", "operator", "advisor", "counselor",
    "supervisor", "someone", "somebody", "persona", "humano", "humana", "agente", "asesor",
    "asesora", "operador", "ejecutivo", "representante", "alguien", "hablar",
)  # fmt: skip


def detect_request(texts: Sequence[str], policy: EscalationPolicy) -> Signal | None:
    """The first explicit request among normalised messages, or None."""
    rules = policy.customer_request
    frames = (*_FRAMES, *rules.extra_patterns.all())
    for text in texts:
        prepared = _prepare(text, rules.not_staff)
        if _is_one_word_request(prepared):
            return Signal(kind="customer_request", evidence=(" ".join(prepared.split()),))
        found = _first_unnegated(prepared, frames)
        if found:
            return Signal(kind="customer_request", evidence=(found,))
    return None


def _prepare(text: str, not_staff: Sequence[str]) -> str:
    spans = [m.span() for m in _ABOUT_ASSISTANT.finditer(text)]
    for phrase in not_staff:
        spans += [m.span() for m in re.finditer(rf"\b{re.escape(phrase)}\w*", text)]
    return repair_typos(mask(text, spans), _TYPO_VOCABULARY)


def _is_one_word_request(text: str) -> bool:
    """A short message made only of a word for staff and politeness ("agent", "asesor por
    favor", "customer service", "HUMAN!!")."""
    words = re.sub(r"[^a-z' ]+", " ", text).split()
    if not 0 < len(words) <= 6:
        return False
    remainder = " ".join(words)
    if not _ONE_WORD.search(remainder):
        return False
    for pattern in (_ONE_WORD, _ONE_WORD_EXTRAS):
        remainder = pattern.sub(" ", remainder)
    return not remainder.strip()


def _first_unnegated(text: str, frames: Sequence[re.Pattern[str]]) -> str | None:
    scopes = negation.scopes(text)
    for frame in frames:
        for match in frame.finditer(text):
            if negation.is_negated(match.start(), scopes) or _is_requirement_question(text, match):
                continue
            return match.group(0).strip()
    return None


def _is_requirement_question(text: str, match: re.Match[str]) -> bool:
    """ "Do I need to talk to an advisor before I register?" asks about a rule."""
    window = text[max(0, match.start() - 40) : match.start() + 8]
    return bool(_REQUIREMENT.search(window)) and "?" in text[match.start() :]
