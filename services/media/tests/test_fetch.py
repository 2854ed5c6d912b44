"""Fetching media through each channel against the WhatsApp simulator (real local HTTP servers),
EUM through botocore's Stubber (validated against the socialmessaging model) and moto S3, and
keeping it once in the media bucket."""

from __future__ import annotations

import base64
import hashlib
import itertools
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws
from test_fetch_samples import jpeg, ogg_opus, png
from werkzeug.serving import make_server

from chalicelib.fetch import (
    ChannelAccess,
    ChecksumMismatch,
    EumMediaSource,
    FetchSettings,
    HttpFetcher,
    MediaDownloadError,
    MediaExpired,
    MediaTooLarge,
    MediaTypeMismatch,
    MetaMediaSource,
    S3MediaStore,
    TwilioMediaSource,
    UnsafeMediaUrl,
    UrlGuard,
    build_sources,
    fetch_and_keep,
)
from infra.local.simulator import RunningSimulator, SimConfig, start_in_thread
from infra.local.simulator.twilio_api import TwilioSimConfig
from parley.media_fetch import FetchedMedia
from parley.payloads import MediaRef, MessageReceived

_IDS = itertools.count(1)
PNID = "100000000000001"
WA_ID = "15551234567"
TWILIO = TwilioSimConfig()
BUCKET = "parley-test-media"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(
        SimConfig(webhook_url="http://127.0.0.1:9/none", auto_read_delay=None)
    )
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _reset(sim: RunningSimulator) -> None:
    requests.post(f"{sim.url}/_sim/media/reset", timeout=5)


@pytest.fixture(scope="module")
def cdn(sim: RunningSimulator) -> Iterator[str]:
    """A second server of the simulator on another port: Twilio's CDN is another host."""
    server = make_server("127.0.0.1", 0, sim.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()


def settings_for(*urls: str, **extra: Any) -> FetchSettings:
    pairs = tuple(url.split("://", 1)[1].rstrip("/") for url in urls)
    return FetchSettings(allow_http_hosts=pairs, tmp_dir=extra.pop("tmp_dir", None), **extra)


def meta_source(sim: RunningSimulator, tmp_path: Path, token: str | None = None) -> MetaMediaSource:
    settings = settings_for(sim.url, tmp_dir=str(tmp_path))
    fetcher = HttpFetcher(UrlGuard(settings.meta_hosts, settings.allow_http_hosts), settings)
    return MetaMediaSource(
        fetcher,
        settings,
        graph_url=sim.url,
        api_version=sim.config.graph_version,
        token=lambda: token or sim.config.access_token,
    )


def upload_customer_media(sim: RunningSimulator, data: bytes, mime: str) -> dict[str, Any]:
    files = {"file": ("upload.bin", data, mime)}
    answer = requests.post(f"{sim.url}/_sim/customer/media", files=files, timeout=5)
    answer.raise_for_status()
    media: dict[str, Any] = answer.json()
    return media


def message(channel: str, kind: str, media: MediaRef, **extra: Any) -> MessageReceived:
    return MessageReceived(
        channel=channel,  # type: ignore[arg-type]
        business_phone_number_id=PNID,
        wa_id=WA_ID,
        message_id=extra.pop("message_id", f"wamid.HBgL{next(_IDS)}"),
        kind=kind,  # type: ignore[arg-type]
        media=media,
        sent_at=extra.pop("sent_at", datetime.now(UTC)),
    )


def meta_message(sim: RunningSimulator, data: bytes, mime: str, kind: str, **ref: Any) -> Any:
    uploaded = upload_customer_media(sim, data, mime)
    fields = {"media_id": uploaded["id"], "mime_type": mime, "sha256": uploaded["sha256"], **ref}
    return message("meta", kind, MediaRef(**fields))


def fault(sim: RunningSimulator, **body: Any) -> None:
    requests.post(f"{sim.url}/_sim/media/faults", json=body, timeout=5).raise_for_status()


def sim_requests(sim: RunningSimulator, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sim.app.extensions["sim_state"].find_requests(kind=kind)
    return found


# --- Meta Cloud API ---------------------------------------------------------------------------


def test_meta_download_resolves_then_streams_and_checks(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    data = png(32, 32)
    got = meta_source(sim, tmp_path).fetch(meta_message(sim, data, "image/png", "image"))
    assert got.read_bytes() == data
    assert (got.mime_type, got.size, got.kind) == ("image/png", len(data), "image")
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.path.parent == tmp_path


def test_meta_voice_note_with_codec_parameter(sim: RunningSimulator, tmp_path: Path) -> None:
    msg = meta_message(sim, ogg_opus(), "audio/ogg", "audio")
    assert msg.media is not None
    voice = msg.media.model_copy(update={"mime_type": "audio/ogg; codecs=opus"})
    msg = msg.model_copy(update={"media": voice})
    assert meta_source(sim, tmp_path).fetch(msg).mime_type == "audio/ogg"


def test_meta_expired_url_is_resolved_again(sim: RunningSimulator, tmp_path: Path) -> None:
    msg = meta_message(sim, jpeg(), "image/jpeg", "image")
    before = len(sim_requests(sim, "media_get"))
    fault(sim, target="meta_metadata", action="expired_url")
    got = meta_source(sim, tmp_path).fetch(msg)
    assert got.read_bytes() == jpeg()
    assert len(sim_requests(sim, "media_get")) - before == 2  # the expired URL, then a fresh one


def test_meta_401_on_download_resolves_once_then_succeeds(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    fault(sim, target="meta_download", action="status", status=401)
    assert meta_source(sim, tmp_path).fetch(meta_message(sim, png(), "image/png", "image"))


def test_meta_401_twice_fails_honestly_and_retryably(sim: RunningSimulator, tmp_path: Path) -> None:
    fault(sim, target="meta_download", action="status", status=401, times=2)
    with pytest.raises(MediaDownloadError) as caught:
        meta_source(sim, tmp_path).fetch(meta_message(sim, png(), "image/png", "image"))
    assert caught.value.retryable
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_meta_unknown_media_id_is_expired(sim: RunningSimulator, tmp_path: Path) -> None:
    msg = message("meta", "image", MediaRef(media_id="999999", mime_type="image/png"))
    with pytest.raises(MediaExpired) as caught:
        meta_source(sim, tmp_path).fetch(msg)
    assert caught.value.customer_reason == "expired" and not caught.value.retryable


def test_meta_media_older_than_7_days_is_expired_without_asking(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    msg = meta_message(sim, png(), "image/png", "image")
    old = msg.model_copy(update={"sent_at": datetime.now(UTC) - timedelta(days=8)})
    before = len(sim_requests(sim, "media_get"))
    with pytest.raises(MediaExpired):
        meta_source(sim, tmp_path).fetch(old)
    assert len(sim_requests(sim, "media_get")) == before


def test_meta_wrong_token_is_retryable(sim: RunningSimulator, tmp_path: Path) -> None:
    source = meta_source(sim, tmp_path, token="a-rotated-away-token-value")
    with pytest.raises(MediaDownloadError) as caught:
        source.fetch(meta_message(sim, png(), "image/png", "image"))
    assert caught.value.retryable


def test_meta_announced_size_over_the_cap_downloads_nothing(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    big = png(64, 64) + b"\x00" * (5 << 20)
    msg = meta_message(sim, big, "image/png", "image")
    before = len(sim_requests(sim, "media_download"))
    with pytest.raises(MediaTooLarge) as caught:
        meta_source(sim, tmp_path).fetch(msg)
    assert caught.value.customer_reason == "too_large"
    assert len(sim_requests(sim, "media_download")) == before


def test_meta_type_mismatch(sim: RunningSimulator, tmp_path: Path) -> None:
    uploaded = upload_customer_media(sim, png(), "image/png")
    msg = message("meta", "image", MediaRef(media_id=uploaded["id"], mime_type="image/jpeg"))
    with pytest.raises(MediaTypeMismatch):
        meta_source(sim, tmp_path).fetch(msg)
    assert list(tmp_path.iterdir()) == []


def test_meta_checksum_mismatch(sim: RunningSimulator, tmp_path: Path) -> None:
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    msg = meta_message(sim, png(), "image/png", "image", sha256=wrong)
    with pytest.raises(ChecksumMismatch):
        meta_source(sim, tmp_path).fetch(msg)


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/iam/", "https://169.254.169.254/latest/"],
)
def test_meta_redirect_to_metadata_service_is_refused(
    sim: RunningSimulator, tmp_path: Path, location: str
) -> None:
    fault(sim, target="meta_download", action="redirect", location=location)
    with pytest.raises(UnsafeMediaUrl):
        meta_source(sim, tmp_path).fetch(meta_message(sim, png(), "image/png", "image"))


def test_meta_redirect_to_another_loopback_port_is_refused(
    sim: RunningSimulator, tmp_path: Path, cdn: str
) -> None:
    # the CDN server is the simulator too, but only sim.url's host:port is allowed
    fault(sim, target="meta_download", action="redirect", location=f"{cdn}/_sim/health")
    with pytest.raises(UnsafeMediaUrl):
        meta_source(sim, tmp_path).fetch(meta_message(sim, png(), "image/png", "image"))


# --- Twilio -----------------------------------------------------------------------------------


def twilio_source(sim: RunningSimulator, cdn: str, tmp_path: Path, token: str = "") -> Any:
    settings = settings_for(sim.url, cdn, tmp_dir=str(tmp_path))
    fetcher = HttpFetcher(UrlGuard(settings.twilio_hosts, settings.allow_http_hosts), settings)
    creds = (TWILIO.account_sid, token or TWILIO.auth_token)
    return TwilioMediaSource(fetcher, settings, credentials=lambda: creds)


def twilio_message(sim: RunningSimulator, data: bytes, mime: str, kind: str) -> MessageReceived:
    files = {"file": ("f", data, mime)}
    answer = requests.post(f"{sim.url}/_sim/twilio/media", files=files, timeout=5).json()
    ref = MediaRef(url=answer["MediaUrl"], mime_type=answer["MediaContentType"])
    return message("twilio", kind, ref, message_id=answer["MessageSid"])


def cdn_requests(sim: RunningSimulator) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(
        f"{sim.url}/_sim/media/cdn-requests", timeout=5
    ).json()["requests"]
    return found


def test_twilio_redirect_to_the_cdn_carries_no_credentials(
    sim: RunningSimulator, cdn: str, tmp_path: Path
) -> None:
    requests.post(f"{sim.url}/_sim/media/config", json={"cdn_url": cdn}, timeout=5)
    msg = twilio_message(sim, ogg_opus(), "audio/ogg", "audio")
    got = twilio_source(sim, cdn, tmp_path).fetch(msg)
    assert got.read_bytes() == ogg_opus() and got.mime_type == "audio/ogg"
    [seen] = cdn_requests(sim)
    assert seen["host"] == cdn.split("://")[1]
    assert seen["authorization"] is None


def test_twilio_wrong_credentials_are_retryable(
    sim: RunningSimulator, cdn: str, tmp_path: Path
) -> None:
    source = twilio_source(sim, cdn, tmp_path, token="not-the-twilio-auth-token")
    with pytest.raises(MediaDownloadError) as caught:
        source.fetch(twilio_message(sim, png(), "image/png", "image"))
    assert caught.value.retryable
    assert cdn_requests(sim) == []


def test_twilio_deleted_media_is_expired(sim: RunningSimulator, cdn: str, tmp_path: Path) -> None:
    msg = twilio_message(sim, png(), "image/png", "image")
    assert msg.media is not None and msg.media.url is not None
    gone = msg.media.url.rsplit("/", 1)[0] + "/ME12345"
    msg = msg.model_copy(update={"media": MediaRef(url=gone, mime_type="image/png")})
    with pytest.raises(MediaExpired):
        twilio_source(sim, cdn, tmp_path).fetch(msg)


def test_twilio_url_of_another_account_gets_no_credentials(
    sim: RunningSimulator, cdn: str, tmp_path: Path
) -> None:
    msg = twilio_message(sim, png(), "image/png", "image")
    assert msg.media is not None and msg.media.url is not None
    other = msg.media.url.replace(TWILIO.account_sid, "AC" + "1" * 32)
    with pytest.raises(UnsafeMediaUrl):
        twilio_source(sim, cdn, tmp_path).fetch(
            msg.model_copy(update={"media": MediaRef(url=other, mime_type="image/png")})
        )


def test_twilio_redirect_to_loopback_is_refused(
    sim: RunningSimulator, cdn: str, tmp_path: Path
) -> None:
    fault(sim, target="twilio", action="redirect", location="http://127.0.0.1:9/latest")
    with pytest.raises(UnsafeMediaUrl):
        twilio_source(sim, cdn, tmp_path).fetch(twilio_message(sim, png(), "image/png", "image"))


# --- a stream that lies about its length ------------------------------------------------------


class LyingServer:
    """Answers every GET with `head` then `body_size` bytes of a PNG-looking body, chunked."""

    def __init__(self, head: bytes, body_size: int) -> None:
        self.head, self.body_size, self.sent = head, body_size, 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(self.head)
                block = png() + b"\x00" * (64 * 1024 - len(png()))
                while self.sent < self.body_size:
                    conn.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                    self.sent += len(block)
                conn.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the client hung up: what the cap should make it do

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["no-length", "length-says-100"],
)
def test_live_byte_count_stops_a_stream_over_the_cap(head: bytes) -> None:
    server = LyingServer(head, body_size=64 << 20)
    try:
        settings = settings_for(server.url)
        fetcher = HttpFetcher(UrlGuard((), settings.allow_http_hosts), settings)
        sink = _CountingSink()
        with pytest.raises(MediaTooLarge):
            fetcher.download(server.url + "/x", {}, 5 << 20, sink)
        assert sink.size <= 5 << 20
        assert server.sent < 16 << 20  # we hung up long before the 64 MB were sent
    finally:
        server.close()


class _CountingSink:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


# --- EUM and the media bucket -----------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/parley-test", TargetKeyId=key)
        social = boto3.client("socialmessaging", region_name="us-east-1")
        yield {"s3": s3, "social": social, "key": key}


EUM_ID = "phone-number-id-" + "a" * 32


def eum_source(aws: dict[str, Any], tmp_path: Path) -> EumMediaSource:
    return EumMediaSource(
        FetchSettings(tmp_dir=str(tmp_path)),
        bucket=BUCKET,
        origination_ids={PNID: EUM_ID},
        social_client=aws["social"],
        s3_client=aws["s3"],
    )


def eum_writes(aws: dict[str, Any], data: bytes, suffix: str) -> None:
    """What EUM does on GetWhatsAppMessageMedia: write the file under the key we named (here with
    an extension of its own choosing)."""

    def write(params: dict[str, Any], **_: Any) -> None:
        target = params["destinationS3File"]
        aws["s3"].put_object(Bucket=target["bucketName"], Key=target["key"] + suffix, Body=data)

    aws["social"].meta.events.register(
        "before-parameter-build.socialmessaging.GetWhatsAppMessageMedia", write
    )


def test_eum_media_is_found_under_its_prefix_checked_and_unstaged(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    data = jpeg(10, 10)
    msg = message("eum", "image", MediaRef(media_id="4711", mime_type="image/jpeg"))
    eum_writes(aws, data, ".jpeg")
    source = eum_source(aws, tmp_path)
    prefix = source.staging_prefix(msg)
    with Stubber(aws["social"]) as stub:
        stub.add_response(
            "get_whatsapp_message_media",
            {"mimeType": "image/jpeg", "fileSize": len(data)},
            {
                "mediaId": "4711",
                "originationPhoneNumberId": EUM_ID,
                "destinationS3File": {"bucketName": BUCKET, "key": prefix + "4711"},
            },
        )
        got = source.fetch(msg)
    assert got.read_bytes() == data and got.mime_type == "image/jpeg"
    assert aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("KeyCount") == 0


def test_eum_over_the_cap_is_refused_and_unstaged(aws: dict[str, Any], tmp_path: Path) -> None:
    msg = message("eum", "sticker", MediaRef(media_id="4712", mime_type="image/webp"))
    eum_writes(aws, b"RIFF" + b"\x00" * 600_000, "")
    source = eum_source(aws, tmp_path)
    with Stubber(aws["social"]) as stub:
        stub.add_response(
            "get_whatsapp_message_media", {"mimeType": "image/webp", "fileSize": 600_000}
        )
        with pytest.raises(MediaTooLarge):
            source.fetch(msg)
    staged = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=source.staging_prefix(msg))
    assert staged.get("KeyCount") == 0


def test_eum_unknown_media_id_is_expired(aws: dict[str, Any], tmp_path: Path) -> None:
    msg = message("eum", "image", MediaRef(media_id="4713", mime_type="image/jpeg"))
    with Stubber(aws["social"]) as stub:
        stub.add_client_error(
            "get_whatsapp_message_media", "ResourceNotFoundException", http_status_code=404
        )
        with pytest.raises(MediaExpired):
            eum_source(aws, tmp_path).fetch(msg)


def test_eum_throttling_is_retryable(aws: dict[str, Any], tmp_path: Path) -> None:
    msg = message("eum", "image", MediaRef(media_id="4714", mime_type="image/jpeg"))
    with Stubber(aws["social"]) as stub:
        stub.add_client_error(
            "get_whatsapp_message_media", "ThrottledRequestException", http_status_code=429
        )
        with pytest.raises(MediaDownloadError) as caught:
            eum_source(aws, tmp_path).fetch(msg)
    assert caught.value.retryable


class CountingSource:
    def __init__(self, data: bytes, tmp_path: Path) -> None:
        self.data, self.tmp_path, self.calls = data, tmp_path, 0

    def fetch(self, message: MessageReceived) -> FetchedMedia:
        self.calls += 1
        path = self.tmp_path / f"download-{uuid.uuid4().hex}"
        path.write_bytes(self.data)
        digest = hashlib.sha256(self.data).hexdigest()
        size = len(self.data)
        name = "../Quote 2024.pdf"
        return FetchedMedia(path, "document", "application/pdf", None, size, digest, name)


def test_kept_once_per_message_encrypted_under_the_conversation(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    store = S3MediaStore(BUCKET, kms_key_id="alias/parley-test", s3_client=aws["s3"])
    source = CountingSource(b"%PDF-1.7 stand-in", tmp_path)
    msg = message("meta", "document", MediaRef(media_id="1"), message_id="wamid.ONE")
    first = fetch_and_keep(msg, {"meta": source}, store)
    again = fetch_and_keep(msg, {"meta": source}, store)
    assert first.created and not again.created
    assert first.key == again.key == f"media/{PNID}/{WA_ID}/wamid.ONE/Quote 2024.pdf"
    assert source.calls == 1  # a redelivery downloads nothing
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="media/")
    assert listed["KeyCount"] == 1
    head = aws["s3"].head_object(Bucket=BUCKET, Key=first.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ContentType"] == "application/pdf"
    assert head["Metadata"]["sha256"] == hashlib.sha256(b"%PDF-1.7 stand-in").hexdigest()


def test_put_once_does_not_overwrite(aws: dict[str, Any], tmp_path: Path) -> None:
    store = S3MediaStore(BUCKET, s3_client=aws["s3"])
    conversation = f"{PNID}:{WA_ID}"
    first = CountingSource(b"first", tmp_path).fetch(message("meta", "document", MediaRef()))
    second = CountingSource(b"second", tmp_path).fetch(message("meta", "document", MediaRef()))
    assert store.put_once(conversation, "wamid.TWO", first).created
    assert not store.put_once(conversation, "wamid.TWO", second).created
    body = aws["s3"].get_object(Bucket=BUCKET, Key=f"media/{PNID}/{WA_ID}/wamid.TWO/Quote 2024.pdf")
    assert body["Body"].read() == b"first"


def test_customer_erasure_removes_stored_and_staged_media(
    aws: dict[str, Any], tmp_path: Path
) -> None:
    store = S3MediaStore(BUCKET, s3_client=aws["s3"])
    for pnid, wa_id in ((PNID, WA_ID), ("100000000000002", WA_ID), (PNID, "15559999999")):
        media = CountingSource(b"x", tmp_path).fetch(message("meta", "document", MediaRef()))
        store.put_once(f"{pnid}:{wa_id}", "wamid.E", media)
    aws["s3"].put_object(Bucket=BUCKET, Key=f"eum-incoming/{PNID}/{WA_ID}/m/1.jpg", Body=b"x")
    assert store.delete_customer(WA_ID) == 3
    left = [o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert left == [f"media/{PNID}/15559999999/wamid.E/Quote 2024.pdf"]


def test_build_sources_wires_every_channel(sim: RunningSimulator, tmp_path: Path) -> None:
    access = ChannelAccess(
        graph_url=sim.url,
        api_version=sim.config.graph_version,
        whatsapp_token=lambda: sim.config.access_token,
        twilio_credentials=lambda: (TWILIO.account_sid, TWILIO.auth_token),
        media_bucket=BUCKET,
        eum_origination_ids={PNID: EUM_ID},
    )
    sources = build_sources(settings_for(sim.url, tmp_dir=str(tmp_path)), access)
    assert set(sources) == {"meta", "eum", "twilio"}
    got = sources["meta"].fetch(meta_message(sim, png(), "image/png", "image"))
    assert got.mime_type == "image/png"


class _BlindListing:
    """An S3 client whose listing misses everything: two deliveries racing past the lookup."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.blind = True

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        if self.blind:
            self.blind = False
            return {"KeyCount": 0}
        listed: dict[str, Any] = self._s3.list_objects_v2(**kwargs)
        return listed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


def test_a_racing_second_write_is_refused_by_s3(aws: dict[str, Any], tmp_path: Path) -> None:
    conversation = f"{PNID}:{WA_ID}"
    S3MediaStore(BUCKET, s3_client=aws["s3"]).put_once(
        conversation, "wamid.RACE", CountingSource(b"first", tmp_path).fetch(_any_message())
    )
    racing = S3MediaStore(BUCKET, s3_client=_BlindListing(aws["s3"]))
    stored = racing.put_once(
        conversation, "wamid.RACE", CountingSource(b"second", tmp_path).fetch(_any_message())
    )
    assert not stored.created  # If-None-Match refused the overwrite
    key = f"media/{PNID}/{WA_ID}/wamid.RACE/Quote 2024.pdf"
    assert aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"first"


def _any_message() -> MessageReceived:
    return message("meta", "document", MediaRef())
