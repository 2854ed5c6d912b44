"""Parley escalation service: hand-offs to human agents: notifications, CRM cases, SLA.

Wiring only; the logic is in chalicelib/ and the shared parley library.
"""

from chalice import Chalice
from chalice.app import SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import add_health_routes
from parley.resources import configured_name

app = Chalice(app_name="parley-escalation")
add_health_routes(app, runtime, "escalation")


@app.on_sqs_message(queue=configured_name("ESCALATION_QUEUE", "queue", "escalation"), batch_size=10)
def handle_escalation_events(event: SQSEvent) -> dict[str, object]:
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)
