"""Pure parts of media fetching: sniffing, type checks, bombs, the URL guard, key names."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from test_fetch_samples import docx, jpeg, ogg_opus, pdf, png, webp_vp8x

from chalicelib.fetch.bombs import BombLimits, check
from chalicelib.fetch.checks import check_sha256, real_type
from chalicelib.fetch.errors import (
    ChecksumMismatch,
    CorruptMedia,
    MediaBomb,
    MediaTypeMismatch,
    UnsafeMediaUrl,
    UnsupportedMediaType,
)
from chalicelib.fetch.guard import UrlGuard, is_public
from chalicelib.fetch.sniff import sniff, sniff_head
from chalicelib.fetch.store import message_prefix, safe_filename
from parley.errors import DependencyError, InvalidInput
from parley.media_types import DOCX, SIZE_CAPS, base_mime, is_allowed

LIMITS = BombLimits()


def write(tmp_path: Path, data: bytes, name: str = "f") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- media types ------------------------------------------------------------------------------


def test_caps_are_whatsapps() -> None:
    assert SIZE_CAPS == {
        "audio": 16 << 20,
        "video": 16 << 20,
        "image": 5 << 20,
        "sticker": 500 << 10,
        "document": 100 << 20,
    }


def test_parameters_are_stripped() -> None:
    assert base_mime("Audio/OGG; codecs=opus") == "audio/ogg"
    assert is_allowed("audio", "audio/ogg; codecs=opus")
    assert not is_allowed("image", "image/gif")


# --- sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"OggS\x00\x02", "audio/ogg"),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x00", "audio/mpeg"),
        (b"\xff\xf1\x50\x80", "audio/aac"),
        (b"#!AMR\n\x3c", "audio/amr"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00", "video/3gpp"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"MZ\x90\x00", None),
    ],
)
def test_magic_numbers(head: bytes, mime: str | None) -> None:
    found = sniff_head(head)
    assert (found.mime if found else None) == mime


def test_docx_is_told_from_its_content_types(tmp_path: Path) -> None:
    found = sniff(write(tmp_path, docx()))
    assert found is not None and found.mime == DOCX


def test_a_plain_zip_is_a_zip(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    found = sniff(write(tmp_path, buffer.getvalue()))
    assert found is not None and found.mime == "application/zip"


def test_text_is_utf8_without_nul(tmp_path: Path) -> None:
    assert sniff(write(tmp_path, "a,b\n1,2\nñ\n".encode(), "csv")) is not None
    assert sniff(write(tmp_path, b"a\x00b", "nul")) is None
    assert sniff(write(tmp_path, b"\xc3\x28 not utf-8", "latin")) is None


# --- declared vs real type --------------------------------------------------------------------


def test_voice_note_with_codec_parameter_passes(tmp_path: Path) -> None:
    path = write(tmp_path, ogg_opus())
    assert real_type(path, "audio", "audio/ogg; codecs=opus") == ("audio/ogg", "ogg")


def test_declared_container_type_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x00\x00\x00\x20ftypisom" + b"\x00" * 40)
    assert real_type(path, "audio", "audio/mp4")[0] == "audio/mp4"


def test_csv_declared_plain_text_sniffed(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,2\n")
    assert real_type(path, "document", "text/csv")[0] == "text/csv"


def test_png_declared_as_jpeg_is_a_mismatch(tmp_path: Path) -> None:
    with pytest.raises(MediaTypeMismatch) as caught:
        real_type(write(tmp_path, png()), "image", "image/jpeg")
    assert caught.value.customer_reason == "type_mismatch"
    assert isinstance(caught.value, InvalidInput) and not caught.value.retryable


def test_gif_as_image_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType):
        real_type(write(tmp_path, b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20), "image", "image/gif")


def test_random_bytes_claiming_png_are_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptMedia):
        real_type(write(tmp_path, b"\x01\x02\x03\x00" * 10), "image", "image/png")


def test_an_executable_declared_as_nothing_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType):
        real_type(write(tmp_path, b"MZ\x90\x00" + b"\x00" * 60), "document", None)


def test_sha256_hex_and_base64() -> None:
    digest = hashlib.sha256(b"x")
    check_sha256(digest.hexdigest(), digest.hexdigest())
    check_sha256(base64.b64encode(digest.digest()).decode(), digest.hexdigest())
    check_sha256(None, digest.hexdigest())
    with pytest.raises(ChecksumMismatch):
        check_sha256(hashlib.sha256(b"y").hexdigest(), digest.hexdigest())


# --- bombs and corrupt files ------------------------------------------------------------------


def test_small_images_pass(tmp_path: Path) -> None:
    check(write(tmp_path, png(640, 480), "p"), "png", LIMITS)
    check(write(tmp_path, jpeg(640, 480), "j"), "jpeg", LIMITS)
    check(write(tmp_path, webp_vp8x(512, 512), "w"), "webp", LIMITS)


@pytest.mark.parametrize(
    ("data", "family"),
    [
        (png(100_000, 100_000), "png"),
        (jpeg(65_000, 65_000), "jpeg"),
        (webp_vp8x(16_000, 16_000), "webp"),
    ],
)
def test_pixel_bombs_are_refused_from_the_header(tmp_path: Path, data: bytes, family: str) -> None:
    with pytest.raises(MediaBomb) as caught:
        check(write(tmp_path, data), family, LIMITS)
    assert caught.value.customer_reason == "too_large"


@pytest.mark.parametrize(
    ("data", "family"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),  # truncated before IHDR
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),  # no frame header
        (b"RIFF\x10\x00\x00\x00WEBPJUNK", "webp"),
        (b"PK\x03\x04 truncated archive", "docx"),
        (b"%PDF-1.7\n garbage without objects", "pdf"),
    ],
)
def test_corrupt_files_are_refused(tmp_path: Path, data: bytes, family: str) -> None:
    with pytest.raises(CorruptMedia) as caught:
        check(write(tmp_path, data), family, LIMITS)
    assert caught.value.customer_reason == "corrupt"


def test_docx_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    bomb = docx({"word/media/big.bin": b"\x00" * (20 << 20)})  # 20 MB of zeros: ~1000x
    assert len(bomb) < 100_000
    with pytest.raises(MediaBomb):
        check(write(tmp_path, bomb), "docx", LIMITS)


def test_zip_total_and_entry_limits(tmp_path: Path) -> None:
    many = docx({f"x/{i}.xml": b"<a/>" for i in range(50)})
    with pytest.raises(MediaBomb):
        check(write(tmp_path, many), "docx", BombLimits(zip_max_entries=20))
    check(write(tmp_path, docx(), "ok"), "docx", LIMITS)


def test_pdf_pages_are_counted(tmp_path: Path) -> None:
    check(write(tmp_path, pdf(3)), "pdf", LIMITS)
    with pytest.raises(MediaBomb):
        check(write(tmp_path, pdf(3), "many"), "pdf", BombLimits(pdf_max_pages=2))


# --- URL guard --------------------------------------------------------------------------------


def fixed(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


META = ("graph.facebook.com", "lookaside.fbsbx.com")


def test_provider_host_over_https_passes() -> None:
    guard = UrlGuard(META, resolver=fixed("157.240.1.1"))
    target = guard.check("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
    assert (target.ip, target.host, target.port) == ("157.240.1.1", "lookaside.fbsbx.com", 443)
    assert target.path == "/whatsapp_business/attachments/?mid=1"


@pytest.mark.parametrize(
    "url",
    [
        "http://lookaside.fbsbx.com/x",  # not https
        "https://evil.example.com/x",  # not a provider host
        "https://lookaside.fbsbx.com.evil.com/x",
        "https://user:pw@lookaside.fbsbx.com/x",  # user info
        "ftp://lookaside.fbsbx.com/x",
        "https://157.240.1.1/x",  # literal address
        "https://lookaside.fbsbx.com:99999/x",  # bad port
    ],
)
def test_policy_refusals(url: str) -> None:
    with pytest.raises(UnsafeMediaUrl) as caught:
        UrlGuard(META, resolver=fixed("157.240.1.1")).check(url)
    assert caught.value.customer_reason == "unsafe_url"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "169.254.169.254",
        "192.168.1.1",
        "::1",
        "fe80::1",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "0.0.0.0",
        "240.0.0.1",
        "fd00::1",
    ],
)
def test_a_provider_host_resolving_to_a_private_address_is_refused(address: str) -> None:
    guard = UrlGuard(META, resolver=fixed("157.240.1.1", address))
    with pytest.raises(UnsafeMediaUrl):
        guard.check("https://lookaside.fbsbx.com/x")
    assert not is_public(address)


def test_wildcard_hosts() -> None:
    guard = UrlGuard(("*.twiliocdn.com",), resolver=fixed("54.1.2.3"))
    assert guard.check("https://mms.twiliocdn.com/a").host == "mms.twiliocdn.com"
    with pytest.raises(UnsafeMediaUrl):
        guard.check("https://twiliocdn.com.attacker.net/a")


def test_local_exception_is_one_exact_host_and_port() -> None:
    guard = UrlGuard(META, allow_http_hosts=("127.0.0.1:8000",), resolver=fixed("127.0.0.1"))
    assert guard.check("http://127.0.0.1:8000/v21.0/1").ip == "127.0.0.1"
    for url in (
        "http://127.0.0.1:8001/",
        "http://localhost:8000/",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1/",
    ):
        with pytest.raises(UnsafeMediaUrl):
            guard.check(url)


def test_unresolvable_host_is_a_retryable_dependency_error() -> None:
    def fail(host: str, port: int) -> list[str]:
        from chalicelib.fetch.guard import resolve

        return resolve("does-not-exist.invalid", port)

    with pytest.raises(DependencyError) as caught:
        UrlGuard(META, resolver=fail).check("https://graph.facebook.com/x")
    assert caught.value.retryable


# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        (None, "media"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\Invoice März.pdf", "Invoice Marz.pdf"),
        ("...", "media"),
        (".env", "env"),
        ("a/b<script>.txt", "b_script_.txt"),
    ],
)
def test_safe_filename(name: str | None, safe: str) -> None:
    assert safe_filename(name) == safe


def test_message_prefix_refuses_path_tricks() -> None:
    assert message_prefix("1001", "1555", "wamid.HBgL=") == "media/1001/1555/wamid.HBgL=/"
    for pn, wa, mid in (("1/2", "1", "m"), ("1", "1", "../x"), ("1", "1", "..")):
        with pytest.raises(InvalidInput):
            message_prefix(pn, wa, mid)
