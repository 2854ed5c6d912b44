"""Parley ingestion service: the only gateway to WhatsApp: webhooks in, the sender out.

Wiring only; the logic is in chalicelib/ and the shared parley library. Route bodies import
nothing heavy at module level, so a cold start pays only for what its first request uses.
"""

from chalice import Chalice, Response
from chalice.app import SNSEvent, SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import add_health_routes, answers_errors
from parley.openapi import add_openapi_route
from parley.resources import configured_name

app = Chalice(app_name="parley-ingestion")
handles_errors = answers_errors("ingestion")
add_health_routes(app, runtime, "ingestion")
add_openapi_route(app, "ingestion", "chalicelib.api_docs")


@app.route("/webhooks/meta", methods=["GET"])
@handles_errors
def verify_meta_webhook() -> Response:
    request = app.current_request
    assert request is not None  # Chalice sets it for every route
    challenge = runtime.meta_webhook.verify_subscription(request.query_params)
    return Response(body=challenge, status_code=200, headers={"Content-Type": "text/plain"})


@app.route("/webhooks/meta", methods=["POST"], content_types=["application/json"])
@handles_errors
def receive_meta_webhook() -> Response:
    request = app.current_request
    assert request is not None
    signature = request.headers.get("x-hub-signature-256")
    return Response(body=runtime.meta_webhook.receive(request.raw_body, signature))


@app.route(
    "/webhooks/twilio", methods=["POST"], content_types=["application/x-www-form-urlencoded"]
)
@handles_errors
def receive_twilio_webhook() -> Response:
    request = app.current_request
    assert request is not None
    signature = request.headers.get("x-twilio-signature")
    twiml = runtime.twilio_webhook.receive(request.raw_body, signature)
    return Response(body=twiml, headers={"Content-Type": "text/xml"})


@app.on_sns_message(topic=configured_name("EUM_INBOUND_TOPIC", "topic", "eum-inbound"))
def receive_eum_inbound(event: SNSEvent) -> None:
    # Invalid input is parked in eum-inbound-dlq at once; other errors are raised: Lambda retries
    # twice, then sends the event to the function's on-failure destination, the same queue.
    from parley.batch import process_sns_event

    process_sns_event(event.to_dict(), runtime.eum_inbound.receive, service="ingestion")


@app.on_sqs_message(queue=configured_name("OUTBOUND_QUEUE", "queue", "outbound"), batch_size=10)
def send_outbound(event: SQSEvent) -> dict[str, object]:
    handlers.begin_outbound_batch(event.context)
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)
