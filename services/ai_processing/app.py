"""Parley ai_processing service: the stateless turn handler (agents and knowledge base).

Wiring only; the logic is in chalicelib/ and the shared parley library.
"""

from chalice import Chalice
from chalice.app import SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import add_health_routes
from parley.openapi import add_openapi_route
from parley.resources import configured_name

app = Chalice(app_name="parley-ai-processing")
add_health_routes(app, runtime, "ai_processing")
add_openapi_route(app, "ai_processing")


@app.on_sqs_message(queue=configured_name("TURNS_QUEUE", "queue", "turns"), batch_size=10)
def handle_turns(event: SQSEvent) -> dict[str, object]:
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)


@app.on_sqs_message(
    queue=configured_name("KB_EVENTS_QUEUE", "queue", "kb-events"),
    batch_size=10,
    maximum_batching_window_in_seconds=5,  # one index run for a burst of uploads
    maximum_concurrency=2,  # runs that race are redone (conditional manifest write)
)
def index_knowledge_base(event: SQSEvent) -> dict[str, object]:
    return runtime.index_knowledge_base(event.to_dict(), event.context)
