"""Redis stopped mid-conversation: no event is lost and turns still go out (from DynamoDB), the
outage is logged once; Redis back: the cache is used again. The test runs its own redis-server
so it can stop and restart it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from context_support import Driver, at, completed, new_conversation, received, texts

from infra.local.pytest_fixtures import free_port


class OwnRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.proc = subprocess.Popen([*args, "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


class RecordingLogger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def _log(self, level: str, message: str, **_: Any) -> None:
        self.records.append((level, message))

    def debug(self, message: str, **kw: Any) -> None:
        self._log("debug", message, **kw)

    def info(self, message: str, **kw: Any) -> None:
        self._log("info", message, **kw)

    def warning(self, message: str, **kw: Any) -> None:
        self._log("warning", message, **kw)

    def said(self, text: str) -> int:
        return sum(1 for _, message in self.records if text in message)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


def test_redis_down_loses_nothing_and_back_up_is_used_again(
    ctx: Driver, own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    from chalicelib.session_cache import RedisGuard, messages_key, session_key
    from chalicelib.wiring import runtime
    from parley.cache import redis_client

    monkeypatch.setenv("REDIS_URL", own_redis.url)
    log = RecordingLogger()
    guard = RedisGuard(lambda: redis_client(own_redis.url), log, retry_after=0.2)
    runtime.override(cache=guard)
    c = new_conversation()
    keys = [session_key(c), messages_key(c)]
    probe = redis.Redis.from_url(own_redis.url)

    # GIVEN a conversation served through the cache
    ctx.apply(received(c, "m0", at(0), "hola"))
    ctx.apply(completed(ctx.one_turn(c), at(1), "¡Hola!"))
    ctx.apply(received(c, "m1", at(2), "¿horario?"))
    assert probe.exists(*keys) == 2
    assert guard.stats["session_hits"] >= 2

    # WHEN Redis stops mid-conversation
    own_redis.stop()
    ctx.apply(completed(ctx.one_turn(c), at(3), "De 9 a 18."))
    for n in range(2, 6):
        ctx.apply(received(c, f"m{n}", at(2 * n), f"pregunta {n}"))
        turn = ctx.one_turn(c)
        assert texts(turn["payload"]["messages"]) == [f"pregunta {n}"]
        ctx.apply(completed(turn, at(2 * n + 1), f"respuesta {n}"))

    # THEN every event was applied from DynamoDB, and the outage was logged once
    stored = ctx.history(c)
    assert [m.text for m in stored][-4:] == [
        "pregunta 4",
        "respuesta 4",
        "pregunta 5",
        "respuesta 5",
    ]
    assert len(stored) == 12 and ctx.session(c).unanswered == []
    assert log.said("redis unavailable") == 1
    assert guard.stats["skipped"] > 0 and not guard.available

    # WHEN Redis is back (empty: no persistence)
    own_redis.start()
    time.sleep(0.3)  # the guard probes again after retry_after
    ctx.apply(received(c, "m6", at(20), "última pregunta"))
    turn = ctx.one_turn(c)
    history = [m["text"] for m in turn["payload"]["history"]]
    assert history[-2:] == ["pregunta 5", "respuesta 5"]  # the context is complete
    hits = guard.stats["session_hits"]
    ctx.apply(completed(turn, at(21), "adiós"))

    # THEN the cache is used again
    assert guard.available and log.said("redis available again") == 1
    assert probe.exists(*keys) == 2
    assert guard.stats["session_hits"] > hits
    cached = runtime.history.recent(c, 3)
    assert [m.text for m in cached] == ["respuesta 5", "última pregunta", "adiós"]
    assert guard.stats["history_hits"] >= 1
    assert log.said("redis unavailable") == 1
