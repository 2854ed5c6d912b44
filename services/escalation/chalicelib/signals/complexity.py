"""Complex cases: an exception the assistant's tools cannot grant (extension, appeal, deferral,
name change: the policy's `complex_case.exceptions`), or several problems at once.

Problems are counted per clause of the burst (split at punctuation and "and / y / also /
además"): a clause counts when it reports something broken, missing or wrong ("my SAT scores
aren't showing", "no puedo entrar al portal", "el nombre está mal escrito"). `min_problems`
clauses make a complex case; `min_problems_with_marker` suffice when the customer announces
them ("I have several issues", "tengo varios problemas", "3 things:").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.signals.models import Signal
from chalicelib.signals.policy import EscalationPolicy

_CLAUSE_SPLIT = re.compile(r"[.;:!?\n]|,|\s(?:and|also|plus|y|e|ademas|tambien|encima)\s")
_PROBLEM = re.compile(
    r"\b(?:(?:isn't|aren't|wasn't|weren't|doesn't|don't|didn't|won't|can't|cannot|never|not)\s+"
    r"(?:\w+\s+){0,2}?(?:show|showing|shows|work|working|works|received|receive|got|get|"
    r"arrive|arrived|load|loading|let|upload|appear|appearing|accept|accepted|linked|send|"
    r"sent|log|open|find)|wrong|incorrect|missing|error|broken|stuck|locked|misspelled|failed|"
    r"declined|rejected|bounced|expired|fallo|rechaz\w+|"
    r"(?:no|nunca)\s+(?:me\s+)?(?:\w+\s+){0,2}?(?:aparece|aparecen|funciona|funcionan|llego|"
    r"llegaron|llega|puedo|deja|dejan|carga|sube|recibieron|recibido|reciben|acepta|abre|"
    r"encuentro)|mal escrit[oa]|incorrect[oa]|equivocad[oa]|falta|faltan|bloquead[oa]|"
    r"error)\b"
)
_MARKER = re.compile(
    r"\b(?:several|multiple|many|a few|a couple of|some|two|three|four|2|3|4)\s+(?:problems|"
    r"issues|things|questions and problems)\b|\b(?:varios|muchos|algunos|dos|tres|cuatro|2|3|4)"
    r"\s+(?:problemas|inconvenientes|temas|cosas|asuntos)\b"
)


def detect_complex(texts: Sequence[str], policy: EscalationPolicy) -> Signal | None:
    """A complex-case signal from the normalised messages, or None."""
    rules = policy.complex_case
    for text in texts:
        excluded = [m.span() for p in rules.not_exceptions.all() for m in p.finditer(text)]
        for pattern in rules.exceptions.all():
            for match in pattern.finditer(text):
                if not any(s < match.end() and match.start() < e for s, e in excluded):
                    return Signal(kind="complex_case", evidence=(match.group(0),))
    burst = " . ".join(texts)
    problems = [c.strip() for c in _CLAUSE_SPLIT.split(burst) if c and _PROBLEM.search(c)]
    marker = _MARKER.search(burst)
    needed = rules.min_problems_with_marker if marker else rules.min_problems
    if len(problems) >= needed:
        evidence = ((marker.group(0),) if marker else ()) + tuple(problems[:4])
        return Signal(kind="complex_case", evidence=evidence, score=min(1.0, len(problems) / 4))
    return None
