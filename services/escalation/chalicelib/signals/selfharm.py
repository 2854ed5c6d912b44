"""Self-harm: recall first.

The phrases below were written to catch first-person statements of suicidal thoughts or
self-injury in English and Spanish, including indirect ("everyone would be better off without
me", "no vale la pena seguir"), abbreviated ("kms") and joking ones ("lol i wanna die"). They
are never suppressed by negation ("I'm not going to kill myself, but...") or by the general
figure-of-speech rules: the only exemption is an exact benign idiom listed in the policy
("me mato estudiando"), removed before matching, so the rest of the message is still read.
The signal's evidence is the category only, never the customer's words.

Every message of the burst is read on its own and the burst as one text (a phrase can be split
across two messages: "i want" / "to die").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.signals.models import SELF_HARM_EVIDENCE, Signal
from chalicelib.signals.policy import EscalationPolicy

_ENGLISH = (
    r"\bkms\b|\bkill?(?:s|ing|ed)? ?(?:my ?self|meself)\b",
    r"\bsu[iy]?[cs]{1,2}[iy]?d\w*|\bunalive\b|\bsewer ?slide\b|\bself[- ]?harm\w*",
    r"\bend(?:ing)? (?:it all|my life|my own life|everything|things|my existence)\b",
    r"\b(?:want|going|plan|planning|thinking about|think about|ready|decided) (?:to )?"
    r"end(?:ing)? it\b",
    r"\btak(?:e|ing) my (?:own )?life\b",
    r"\b(?:want|wanted|wanting|going|ready|wish|wishing|would rather|i'd rather|prefer) "
    r"(?:to )?(?:die|be dead|not exist|not be alive|not wake up|disappear)\b",
    r"\bwish i (?:was|were|could|had) (?:dead|die|gone|not alive|not here|disappear)\b|"
    r"\bwish i (?:had )?never (?:been )?born\b",
    r"\bbetter off (?:dead|without me|gone)\b|\b(?:be|are|is) better (?:off )?without me\b|"
    r"\b(?:everyone|everybody) would be (?:better|happier) without me\b",
    r"\b(?:don't|do not) (?:want|wish) (?:to )?(?:live|be alive|exist|wake up|be here|go on|"
    r"keep going|keep living)\b",
    r"\bno (?:reason|point) (?:to|in|of) (?:live|living|go on|going on|be alive|being alive|"
    r"keep going|wake up)\b",
    r"\b(?:don't|can't|cannot|do not) see (?:the|any) point (?:of|in) (?:living|life|going on|"
    r"anything|being alive|being here)\b",
    r"\bpoint of living\b|\bnothing to live for\b|\bnot worth living\b|"
    r"\b(?:life|living) (?:is not|isn't|ain't) worth\b|\blife is (?:pointless|meaningless)\b",
    r"\bcan(?:'t|not) (?:go on|keep going|keep living)\b"
    r"(?! (?:the|a|an|this|that|my|our|your|campus|tour)\b)",
    r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|injure|injuring|starve|"
    r"starving|hang|hanging) (?:my ?self|meself)\b",
    r"\bcut(?:ting)? (?:my )?(?:wrists?|arms?|thighs?)\b|\bslit my wrists?\b",
    r"\boverdos\w*|\b(?:take|took|swallow|swallowed) (?:all )?(?:of )?(?:my |the |these )?"
    r"(?:sleeping )?pills\b",
    r"\bjump(?:ing)? (?:off|from) (?:a|the) (?:bridge|building|roof|balcony|window)\b",
    r"\b(?:won't|will not) be (?:here|around) (?:much longer|anymore|tomorrow)\b|"
    r"\bnot be (?:here|around) anymore\b",
    r"\b(?:no one|nobody) would (?:miss me|care if i (?:died|was gone|were gone|disappeared))\b",
    r"\bi'm (?:a|such a) burden\b",
    r"\b(?:please|just|someone|somebody) kill me\b",
    r"\b(?:been|started|start|keep|kept|i) cutting\b(?! (?:class|classes|corners|costs|back))|"
    r"\bcutting again\b",
    r"\bjump(?:ing)? (?:off|from|in front of) (?:a|the|my) (?:\w+ )?(?:bridge|building|roof|"
    r"balcony|window|garage|cliff|overpass|tower|train|car|bus|truck)\b",
    r"\b(?:it all|everything|all of this) to (?:stop|end)\b|\bnever wake up\b|"
    r"\b(?:done with|tired of|sick of) (?:life|living|being alive)\b|"
    r"\b(?:goodbye|suicide) (?:note|letter)\b|\bdark thoughts\b|\bleave this world\b",
    r"\b(?:nobody|no one)\b(?:\s+\S+){0,3}?\s+(?:would|will) (?:miss me|notice if i|care if i)\b",
    r"\b(?:better|happier) (?:off )?(?:if i (?:was|were|wasn't|weren't) (?:gone|dead|here|around|"
    r"alive)|if i (?:died|disappeared))\b",
    r"\bpills?\b(?:\s+\S+){0,6}?\s+(?:saved|stockpil\w*|take (?:them|it) all|all at once|"
    r"tonight)\b|"
    r"\b(?:saved|stockpiled?|collected|hoarding) (?:up )?(?:pills|meds|medication)\b",
    r"\b(?:i'll|i will|i'm going to|going to|i'm just going to) (?:just )?end it\b"
    r"(?! (?:here|there|now|with|by|for|at))|\bend it (?:tonight|today|soon)\b",
    r"\b(?:there's|there is|i see|see|i have) no way out\b|\bcan't live like this\b|"
    r"\bwhy (?:am i|should i be|should i stay) (?:even |still )?alive\b|"
    r"\bwish i wasn't (?:born|alive|here)\b",
    r"\bpoint (?:of|in) (?:being alive|living|life|existing|going on)\b|"
    r"\b(?:reason|point|sense)\b(?:\s+\S+){0,2}?\s+(?:to|in|of) (?:keep living|keep going|"
    r"go on living|going on|being alive|be alive|existing|living)\b|"
    r"\bgiv(?:e|ing) up on (?:life|living|everything|myself)\b|"
    r"\b(?:want|wish|need) (?:it|this|everything|it all) (?:all )?to be over\b|"
    r"\bnothing matters any ?more\b|"
    r"\bno (?:reason|point)\b(?:\s+\S+){0,3}?\s+to (?:live|be alive|go on|keep going|keep living|"
    r"exist)\b|\b(?:want|wanna) to (?:be alive|live|exist) any ?more\b|"
    r"\b(?:wrote|writing|written|left|leave) (?:a |my )?(?:goodbye |farewell |last )?(?:note|"
    r"letter)s? (?:for|to) (?:my )?(?:family|parents|mom|dad|everyone|friends)\b|"
    r"\b(?:my )?life (?:has|had) no (?:meaning|point|purpose)\b|"
    r"\bbetter (?:not to exist|to not exist|off not existing|not to be alive)\b",
    r"\bif i (?:was|were) (?:gone|dead|not here|not around)\b|\bwhen i'm gone\b|"
    r"\b(?:took|swallowed|taken|take) (?:a bunch of|a lot of|too many|so many|lots of|a handful of|"
    r"all (?:of )?(?:my|the)|\d+) (?:\w+ )?(?:pills|tablets|meds|medication|tylenol|advil|"
    r"ibuprofen|paracetamol|acetaminophen|pastillas)\b",
)
# A wish for death, in any wording: a first-person wish followed closely by dying, not
# existing or disappearing ("I feel like dying", "quisiera estar muerta", "pienso en la muerte").
_WISH = (
    r"\b(?:i (?:want|wish|would rather|'d rather|just want|really want|feel like|think about|"
    r"keep thinking about|am thinking about|'m thinking about|plan|am planning|'m planning)|"
    r"want to|wanna|wish|rather|quiero|quisiera|deseo|ojala|prefiero|me gustaria|ganas de|"
    r"pienso en|pensando en|pense en|pienso que seria mejor|seria mejor|i think about|"
    r"thinking about|thinking of)"
)
_DEATH = (
    r"(?:die|dying|dead|death|not (?:be )?alive|not exist|not wake up|not waking up|not being "
    r"alive|not existing|disappear|kill myself|"
    r"morir(?:me)?|muer(?:a|ta|to|te|as)|matarme|desaparecer|no despert\w*|no existir|"
    r"dejar de existir|dejar de vivir|stop existing|stop living|cease to exist|be gone|"
    r"quitarme la vida|no estar aqui|no estar viv[oa]|irme de este mundo)\b"
)
_WISH_FOR_DEATH = rf"{_WISH}\b(?:\s+\S+){{0,4}}?\s+{_DEATH}"
_SPANISH = (
    r"\bmatarme\b|\bme (?:voy a|quiero|vaya a|podria|pienso) matar\b|\bme mato\b",
    r"\bquitarme la vida\b|\bquitar(?:me)? (?:mi|la) propia vida\b|\bme quito la vida\b",
    r"\b(?:acabar|terminar) con (?:todo|mi vida|mi existencia)\b",
    r"\b(?:quiero|quisiera|deseo|ganas de|me gustaria|prefiero) morir(?:me)?\b|"
    r"\bme (?:quiero|quisiera) morir\b|\bquiero estar muert[oa]\b",
    r"\bojala (?:me muriera|me muera|estuviera muert[oa]|no despert\w*|no haber nacido|"
    r"desaparec\w*|no existiera)\b",
    r"\bmejor (?:muert[oa]|me muero)\b|\b(?:estarian|estaria|estaran) mejor sin mi\b",
    r"\b(?:no|ya no) (?:quiero|deseo) (?:vivir|seguir viviendo|seguir aqui|estar aqui|existir|"
    r"despertar|seguir en este mundo|estar (?:mas )?aqui)\b",
    r"\bno (?:tengo|tiene|hay|le veo|le encuentro|le hallo) (?:ganas|sentido|caso|razon|razones|"
    r"motivos?) (?:de |para |a |en )?(?:seguir viviendo|vivir|la vida|mi vida|nada|"
    r"seguir(?: asi| adelante)?"
    r"\b(?!\s+(?:esperando|con|intentando|aplicando|mandando|enviando)))",
    r"\bno vale la pena (?:seguir|vivir)\b",
    r"\bsin (?:ganas|sentido|razon) (?:de|para) (?:vivir|seguir viviendo)\b|"
    r"\bla vida no tiene sentido\b|\bmi vida no (?:tiene sentido|vale nada|vale la pena)\b",
    r"\bhacerme dano\b|\blastimarme\b|\bcortarme\b|\bautolesi\w*|"
    r"\bme (?:corto|corte|cortaba|he cortado|lastimo|lastime|lastimaba|hago dano|hice dano|"
    r"he hecho dano)\b"
    r"(?! (?:el|las|los|la) (?:pelo|unas|cabello|flequillo))",
    r"\btomarme (?:todas )?las pastillas\b|\bsobredosis\b|\bahorcarme\b|\baventarme\b|"
    r"\btirarme (?:de|del|desde|por) (?:un|el|la) (?:puente|edificio|ventana|balcon|azotea)\b",
    r"\bdesaparecer (?:para siempre|del mundo|de este mundo)\b|\bquiero desaparecer\b",
    r"\bno aguanto (?:mas )?(?:la vida|vivir|seguir viviendo|estar viv[oa])\b|"
    r"\bya no puedo (?:mas )?con (?:mi vida|la vida)\b",
    r"\bsoy (?:una carga|un estorbo|un problema para todos)\b|\bno (?:quiero|deseo) despertar\b",
    r"\b(?:dormir|irme|me voy|desaparecer|acabar|terminar|sleep|gone|go away|leave|disappear|"
    r"stop|end)\b(?:\s+\S+){0,2}?\s+(?:para siempre|forever)\b",
    r"\bnadie\b(?:\s+\S+){0,3}?\s+(?:me )?(?:extranaria|echaria de menos|notaria|importaria)\b|"
    r"\b(?:ir|irme|irse|salir|desaparecer|marcharme) de este mundo\b|\bideas? suicidas?\b|"
    r"\bme (?:quiero|voy a|pienso|quisiera|gustaria|podria|quiero ir a) (?:quitar la vida|matar|"
    r"hacer dano|lastimar|cortar|suicidar|tirar|aventar|colgar|ahorcar)\b|\bcolgarme\b|"
    r"\bno puedo (?:seguir )?vivir asi\b|\bpara que (?:sigo|estoy|seguir) viv[oa]\b|"
    r"\bpara que vivir\b|"
    r"\b(?:no (?:le )?veo|no hay) salida\b|"
    r"\bpensamientos (?:oscuros|de muerte|suicidas)\b|\bcarta de despedida\b|"
    r"\b(?:cansad[oa]|hart[oa]) de vivir\b",
    r"\bmejor (?:no existir|no estar|no haber nacido|estar muert[oa]|desaparecer|morir(?:me)?)\b|"
    r"\bsi (?:yo )?(?:no (?:existiera|estuviera|viviera)|me muriera|desapareciera|ya no "
    r"estuviera)\b|\bcuando ya no este\b|\bno tiene caso (?:seguir|vivir)\b|"
    r"\bpara que seguir\b|\bquiero que (?:todo|esto|ya|mi vida) (?:\w+ )?(?:se acabe|termine|"
    r"acabe|se termine)\b|\bya nada importa\b|\bnada tiene sentido\b|"
    r"\b(?:ya )?no quiero seguir\b(?!\s+(?:con|en|esperando|intentando|"
    r"aplicando|mandando|enviando|estudiando|llenando|pagando|el|la|los|las|este|esta|aqui en))|"
    r"\bya no puedo seguir(?: asi| mas)?\s*(?:[.!,]|$)|\brendirme con la vida\b|"
    r"\bme (?:tome|trague) (?:todas las|un monton de|muchas|varias) pastillas\b",
)
PATTERNS = tuple(re.compile(p) for p in (*_ENGLISH, *_SPANISH, _WISH_FOR_DEATH))


def detect_self_harm(texts: Sequence[str], policy: EscalationPolicy) -> Signal | None:
    """A self-harm signal if any normalised message (or the burst read as one) matches."""
    rules = policy.self_harm
    patterns = (*PATTERNS, *rules.extra_patterns.all())
    candidates = [*texts, " ".join(texts)] if len(texts) > 1 else list(texts)
    for text in candidates:
        readable = _without_benign_idioms(text, rules.benign_idioms)
        if any(pattern.search(readable) for pattern in patterns):
            return Signal(kind="self_harm", evidence=SELF_HARM_EVIDENCE, topic="self_harm")
    return None


def _without_benign_idioms(text: str, idioms: Sequence[str]) -> str:
    for idiom in idioms:
        text = re.sub(rf"\b{re.escape(idiom)}\b", " ", text)
    return text
