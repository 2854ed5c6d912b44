"""JSON log lines on stdout, one object per line, safe to call from any thread."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any, Protocol


class TextSink(Protocol):
    """Where log lines go: sys.stdout, a file, or a test's collector."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class JsonLog:
    """Writes `{"ts", "level", "service", "msg", ...fields}` lines to a stream (stdout)."""

    def __init__(self, service: str, stream: TextSink | None = None) -> None:
        self.service = service
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, level: str, msg: str, **fields: Any) -> None:
        record: dict[str, Any] = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level,
            "service": self.service,
            "msg": msg,
        }
        record.update({key: value for key, value in fields.items() if value is not None})
        line = json.dumps(record, default=str)
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    def info(self, msg: str, **fields: Any) -> None:
        self.emit("INFO", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.emit("WARNING", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.emit("ERROR", msg, **fields)
