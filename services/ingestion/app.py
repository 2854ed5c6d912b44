"""Parley ingestion service: the only gateway to WhatsApp: webhooks in, the sender out.

Wiring only; the logic is in chalicelib/ and the shared parley library.
"""

from chalice import Chalice, Response
from chalice.app import SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import answers_errors
from parley.resources import configured_name

app = Chalice(app_name="parley-ingestion")
handles_errors = answers_errors("ingestion")


@app.route("/health")
@handles_errors
def health() -> Response:
    report = runtime.health()
    return Response(body=report, status_code=200 if report["healthy"] else 503)


@app.on_sqs_message(queue=configured_name("OUTBOUND_QUEUE", "queue", "outbound"), batch_size=10)
def send_outbound(event: SQSEvent) -> dict[str, object]:
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)
