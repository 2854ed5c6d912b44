"""Parley media service: inbound media: download, validate, store, analyse.

Wiring only; the logic is in chalicelib/ and the shared parley library.
"""

from chalice import Chalice
from chalice.app import SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import add_health_routes
from parley.openapi import add_openapi_route
from parley.resources import configured_name

app = Chalice(app_name="parley-media")
add_health_routes(app, runtime, "media")
add_openapi_route(app, "media")


@app.on_sqs_message(queue=configured_name("MEDIA_QUEUE", "queue", "media"), batch_size=10)
def process_media(event: SQSEvent) -> dict[str, object]:
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)
