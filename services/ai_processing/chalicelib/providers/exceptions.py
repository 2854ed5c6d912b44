"""The providers' errors: every one is a `parley.errors.ModelError`, so the turn handler catches one
class and decides from `retryable` and `code`.

| error | code | retryable | when |
|---|---|---|---|
| `ModelThrottled` | model_throttled | yes | Bedrock ThrottlingException, HTTP 429 |
| `ModelTimeout` | model_timeout | yes | read/connect timeout, ModelTimeoutException |
| `ModelError` | model_error | yes | 5xx, ServiceUnavailable, an unreadable answer |
| `MalformedToolCall` | malformed_tool_call | yes | bad arguments JSON, an unknown tool |
| `ModelRequestRejected` | model_request_rejected | no | ValidationException, HTTP 4xx |
| `ModelUnavailable` | model_unavailable | yes | circuit open, retry budget spent |

A malformed tool call is *retryable*: the model is up and a new sample usually calls the tool
correctly, so `ResilientChatModel` asks again within its budget (it does not count towards the
circuit breaker). If it keeps happening the caller gets `ModelUnavailable` (detail `last_error:
malformed_tool_call`): the turn handler answers with a holding message and hands off to a person.
`ModelRequestRejected` means our request is wrong (too long, bad schema, no model access): retrying
cannot help, the same customer message applies and the turn is not retried.
"""

from __future__ import annotations

from parley.errors import ModelError, Throttled


class ModelThrottled(Throttled, ModelError):
    code = "model_throttled"


class ModelTimeout(ModelError):
    code = "model_timeout"


class MalformedToolCall(ModelError):
    code = "malformed_tool_call"


class ModelRequestRejected(ModelError):
    code = "model_request_rejected"
    http_status = 502
    retryable = False


class ModelUnavailable(ModelError):
    """The circuit is open or the retry budget is spent: answer with a holding message."""

    code = "model_unavailable"
    http_status = 503
