"""Knowledge retrieval on the demo knowledge base: hit rate of a labeled question set (English and
Spanish), index build time and search latency. Prints figures; it is not a timed test.

    python -m tests.bench.knowledge
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = ROOT / "infra" / "local" / "demo" / "kb"
sys.path.insert(0, str(ROOT / "services" / "ai_processing"))  # chalicelib, as the service sees it

FAQ = "preguntas-frecuentes.md"
# question -> the documents that answer it (a Spanish question may be answered by the FAQ)
LABELED: dict[str, tuple[str, ...]] = {
    "When is the fall application deadline?": ("deadlines-and-calendar.md",),
    "When is the Early Action deadline?": ("deadlines-and-calendar.md",),
    "What is the deadline for transfer students?": ("deadlines-and-calendar.md",),
    "When does the spring semester start?": ("deadlines-and-calendar.md",),
    "How much is tuition?": ("tuition-and-fees.md",),
    "How much does a single room in the residence hall cost?": ("tuition-and-fees.md",),
    "Is the enrollment deposit refundable?": ("tuition-and-fees.md",),
    "Do I need the SAT or ACT?": ("admission-requirements.md",),
    "What TOEFL or IELTS score do I need?": (
        "admission-requirements.md",
        "international-students.md",
    ),
    "How do I check my application status?": ("admission-requirements.md",),
    "Can I get an application fee waiver?": ("admission-requirements.md",),
    "How do I book a campus tour?": ("campus-visits.md",),
    "Where do visitors park?": ("campus-visits.md",),
    "Is there a virtual tour?": ("campus-visits.md",),
    "How do I get an I-20?": ("international-students.md",),
    "Can international students work while studying?": ("international-students.md",),
    "Is health insurance required for international students?": ("international-students.md",),
    "Do you offer a nursing degree?": ("programs.md",),
    "Which graduate programs are online?": ("programs.md",),
    "How do I qualify for the Presidential Scholarship?": ("scholarships-and-aid.md",),
    "Is there need-based financial aid?": ("scholarships-and-aid.md",),
    "¿Cuánto cuesta la matrícula?": ("tuition-and-fees.md", FAQ),
    "¿Cuánto cuesta presentar la solicitud?": (FAQ, "admission-requirements.md"),
    "¿Necesito el SAT?": (FAQ, "admission-requirements.md"),
    "¿Cuáles son las fechas límite para solicitar?": (FAQ, "deadlines-and-calendar.md"),
    "¿Puedo pagar en cuotas?": (FAQ, "tuition-and-fees.md"),
    "¿Hay becas para estudiantes internacionales?": (FAQ, "scholarships-and-aid.md"),
    "¿Qué nivel de inglés necesito?": (FAQ, "admission-requirements.md"),
    "¿Cómo reviso el estado de mi solicitud?": (FAQ, "admission-requirements.md"),
    "¿Hay asesores que hablen español?": (FAQ,),
}


def main() -> int:
    from chalicelib.knowledge.chunking import chunk_document
    from chalicelib.knowledge.extract import extract
    from chalicelib.knowledge.index import KnowledgeIndex

    started = time.perf_counter()
    index = KnowledgeIndex(Path(tempfile.mkdtemp()) / "bench.sqlite")
    chunks = 0
    for path in sorted(DEMO_KB.glob("*.md")):
        key = f"demo/{path.name}"
        document_chunks = chunk_document(key, extract(key, path.read_bytes()))
        index.replace(key, "bench", document_chunks)
        chunks += len(document_chunks)
    index.commit()
    build_ms = (time.perf_counter() - started) * 1000

    top1 = top3 = 0
    latencies = []
    for question, answers in LABELED.items():
        t0 = time.perf_counter()
        hits = index.search(question, 3)
        latencies.append((time.perf_counter() - t0) * 1000)
        found = [hit.document.removeprefix("demo/") for hit in hits]
        top1 += bool(found) and found[0] in answers
        top3 += any(document in answers for document in found)
        if not found or found[0] not in answers:
            print(f"  miss@1: {question!r} -> {found[:3]}")
    n = len(LABELED)
    print(f"demo KB: 8 documents, {chunks} chunks, index built in {build_ms:.0f} ms")
    print(f"hit rate ({n} questions, en+es): top-1 {top1 / n:.0%}, top-3 {top3 / n:.0%}")
    print(
        f"search latency: p50 {statistics.median(latencies):.2f} ms, "
        f"max {max(latencies):.2f} ms (warm, index on local disk)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
