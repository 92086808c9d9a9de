"""A corpus of hostile and malformed media, generated (never committed), for the upload path.

`build_corpus(folder)` writes well over 200 files: truncated, bit-flipped and zero-byte videos, wrong
extensions, non-videos renamed `.mp4`, headers claiming huge dimensions, thousands of tiny frames,
audio only, still images, and a valid clip with no length in its header that would decode for long.
Each entry says what kind it is, so a report can count per kind. Deterministic (fixed seeds).
"""

from __future__ import annotations

import io
import struct
import wave
import zipfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data as skimage_data

SIZE = (96, 72)  # width, height: small, so 200 files analyse in minutes


@dataclass(frozen=True)
class HostileInput:
    path: Path
    kind: str


def _frames(count: int, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """RGB frames of the astronaut portrait drifting, so a face detector has something to do."""
    portrait = cv2.resize(skimage_data.astronaut(), (size[1], size[1]))
    frames = []
    for i in range(count):
        canvas = np.full((size[1], size[0], 3), 90, np.uint8)
        x = (i * 2) % max(size[0] - size[1], 1)
        canvas[:, x : x + size[1]] = portrait[:, : min(size[1], size[0] - x)]
        frames.append(canvas)
    return frames


def _write_cv2(path: Path, fourcc: str, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _write_av(path: Path, codec: str, frames: list[np.ndarray], fps: int = 25, fmt: str | None = None) -> Path:
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _audio_only(path: Path, seconds: float = 2.0) -> Path:
    """An mp4 container with one AAC audio stream and no video."""
    rate = 44100
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = (np.sin(np.arange(int(rate * seconds)) * 2 * np.pi * 440 / rate) * 0.3).astype(np.float32)
        step = 1024
        for start in range(0, len(samples), step):
            block = samples[start : start + step]
            if len(block) < step:
                break
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _wav_bytes(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes((np.sin(np.arange(int(8000 * seconds)) / 5) * 8000).astype("<i2").tobytes())
    return buffer.getvalue()


def _image_bytes(extension: str) -> bytes:
    ok, encoded = cv2.imencode(extension, skimage_data.astronaut()[:, :, ::-1])
    assert ok
    return encoded.tobytes()


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>" * 50)
    return buffer.getvalue()


def _patch_all(data: bytes, marker: bytes, offset: int, value: bytes) -> bytes:
    """Overwrite `value` at `offset` after every occurrence of `marker`."""
    out = bytearray(data)
    start = 0
    while (found := data.find(marker, start)) >= 0:
        position = found + offset
        out[position : position + len(value)] = value
        start = found + 1
    return bytes(out)


def _huge_dimensions(mp4: bytes, avi: bytes) -> dict[str, bytes]:
    """Headers that claim frames far larger than the data: a decoder that trusts them allocates gigabytes."""
    big = struct.pack(">HH", 65535, 65535)
    variants = {
        # mp4v sample entry: width and height sit 24 bytes after the four-character code.
        "mp4_sample_entry_65535": _patch_all(mp4, b"mp4v", 28, big),
        # tkhd: the track's display size, 16.16 fixed point, in the last 8 bytes of the box.
        "mp4_tkhd_65535": _patch_all(mp4, b"tkhd", 4 + 76, struct.pack(">II", 65535 << 16, 65535 << 16)),
        "mp4_both_65535": _patch_all(
            _patch_all(mp4, b"mp4v", 28, big), b"tkhd", 4 + 76, struct.pack(">II", 65535 << 16, 65535 << 16)
        ),
        "mp4_sample_entry_zero": _patch_all(mp4, b"mp4v", 28, struct.pack(">HH", 0, 0)),
    }
    # AVI: avih holds dwWidth/dwHeight at bytes 32..40 of its payload; strf's BITMAPINFOHEADER at 4..12.
    for name, (width, height) in {"65535": (65535, 65535), "100000": (100_000, 100_000), "neg": (-5, -5)}.items():
        patched = _patch_all(avi, b"avih", 8 + 32, struct.pack("<ii", width, height))
        variants[f"avi_avih_{name}"] = patched
        variants[f"avi_strf_{name}"] = _patch_all(patched, b"strf", 8 + 4, struct.pack("<ii", width, height))
    return variants


def _strip_mkv_duration(mkv: bytes) -> bytes:
    """Turn the Segment Info's Duration element (ID 0x4489) into a Void element: no length in the header."""
    found = mkv.find(b"\x44\x89")
    if found < 0:
        return mkv
    out = bytearray(mkv)
    out[found : found + 2] = b"\xec\x89"  # Void (0xEC) with a 1-byte size; swallows the old payload
    return bytes(out)


def build_corpus(folder: Path, long_minutes: float = 12.0) -> list[HostileInput]:
    """Write the corpus into `folder` (created) and return its entries, in a fixed order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20241203)
    corpus: list[HostileInput] = []

    def add(name: str, kind: str, payload: bytes | None = None) -> Path:
        path = folder / name
        if payload is not None:
            path.write_bytes(payload)
        corpus.append(HostileInput(path, kind))
        return path

    frames = _frames(40)
    seeds = {
        "mp4v.mp4": _write_cv2(folder / "seed-mp4v.mp4", "mp4v", frames).read_bytes(),
        "mjpg.avi": _write_cv2(folder / "seed-mjpg.avi", "MJPG", frames).read_bytes(),
        "h264.mp4": _write_av(folder / "seed-h264.mp4", "libx264", frames).read_bytes(),
        "vp8.webm": _write_av(folder / "seed-vp8.webm", "libvpx", frames, fmt="webm").read_bytes(),
        "ffv1.mkv": _write_av(folder / "seed-ffv1.mkv", "ffv1", frames, fmt="matroska").read_bytes(),
    }
    for seed in folder.glob("seed-*"):
        seed.unlink()
    for name, payload in seeds.items():
        add(f"valid-{name}", "valid", payload)

    # Truncated: cut at 0.5% ... 95% of the file.
    for name, payload in seeds.items():
        for fraction in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95):
            stem, extension = name.rsplit(".", 1)
            add(
                f"truncated-{stem}-{int(fraction * 1000):03d}.{extension}",
                "truncated",
                payload[: int(len(payload) * fraction)],
            )

    # Bit-flipped: from one flipped bit to one byte in fifty, header included.
    for name, payload in seeds.items():
        for number, density in enumerate((1, 4, 16, 64, 256, 1024, 4096, 16384, 0.02, 0.05, 0.1, 0.2)):
            data = bytearray(payload)
            flips = int(density * len(data)) if isinstance(density, float) else density
            for position in rng.integers(0, len(data), flips):
                data[position] ^= 1 << int(rng.integers(0, 8))
            stem, extension = name.rsplit(".", 1)
            add(f"flipped-{stem}-{number:02d}.{extension}", "bit-flipped", bytes(data))
        stem, extension = name.rsplit(".", 1)
        header = bytearray(payload)
        header[:64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
        add(f"flipped-{stem}-header.{extension}", "bit-flipped", bytes(header))

    # Zero bytes, under every accepted extension.
    for extension in ("mp4", "avi", "mov", "mkv", "webm"):
        add(f"zero-bytes.{extension}", "zero-byte", b"")

    # Wrong extensions: a real video under another container's name.
    for name, payload in seeds.items():
        for extension in ("mp4", "avi", "mov", "mkv", "webm"):
            if not name.endswith(extension):
                add(f"renamed-{name.replace('.', '-')}.{extension}", "wrong-extension", payload)

    # Not videos at all, named .mp4.
    not_videos = {
        "png": _image_bytes(".png"),
        "jpeg": _image_bytes(".jpg"),
        "bmp": _image_bytes(".bmp"),
        "tiff": _image_bytes(".tiff"),
        "webp": _image_bytes(".webp"),
        "gif": b"GIF89a" + bytes(200),
        "pdf": b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 30,
        "zip-docx": _zip_bytes(),
        "wav": _wav_bytes(),
        "mp3-id3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(rng.integers(0, 256, 4000, dtype=np.uint8)),
        "elf": b"\x7fELF\x02\x01\x01" + bytes(500),
        "exe": b"MZ\x90\x00" + bytes(500),
        "html": b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>",
        "json": b'{"video": true, "frames": 1000000}',
        "text": b"this is not a video\n" * 200,
        "random-4k": rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "random-1m": rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes(),
        "nul-1m": bytes(1 << 20),
        "ff-64k": b"\xff" * 65536,
        "utf16-text": "Ein Video? Nein.\n".encode("utf-16") * 100,
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://example.org/x.png"/></svg>',
        "ftyp-only": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
        "ebml-only": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01",
        "riff-avi-only": b"RIFF\x04\x00\x00\x00AVI ",
        "ftyp-then-random": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
        + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes(),
        "mkv-then-random": b"\x1a\x45\xdf\xa3" + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes(),
    }
    for label, payload in not_videos.items():
        add(f"not-a-video-{label}.mp4", "non-video renamed .mp4", payload)

    # Headers claiming huge (or impossible) dimensions.
    for label, payload in _huge_dimensions(seeds["mp4v.mp4"], seeds["mjpg.avi"]).items():
        add(
            f"huge-dimensions-{label}.{'avi' if label.startswith('avi') else 'mp4'}", "huge claimed dimensions", payload
        )

    # Thousands of tiny frames.
    tiny = [np.full((16, 16, 3), i % 256, np.uint8) for i in range(3000)]
    add("tiny-frames-3000-25fps.mp4", "thousands of tiny frames")
    _write_cv2(folder / "tiny-frames-3000-25fps.mp4", "mp4v", tiny, fps=25.0)
    add("tiny-frames-3000-1000fps.avi", "thousands of tiny frames")
    _write_cv2(folder / "tiny-frames-3000-1000fps.avi", "MJPG", tiny, fps=1000.0)
    add("tiny-frames-2x2-5000.mkv", "thousands of tiny frames")
    _write_av(
        folder / "tiny-frames-2x2-5000.mkv",
        "ffv1",
        [np.full((2, 2, 3), i % 256, np.uint8) for i in range(5000)],
        fps=1000,
        fmt="matroska",
    )

    # Audio only.
    add("audio-only-aac.mp4", "audio only")
    _audio_only(folder / "audio-only-aac.mp4")
    add("audio-only-aac.mov", "audio only", (folder / "audio-only-aac.mp4").read_bytes())
    add("audio-only-wav.avi", "audio only", _wav_bytes())

    # Still images: a one-frame video, and pictures under video names.
    add("still-one-frame.mp4", "still image")
    _write_cv2(folder / "still-one-frame.mp4", "mp4v", _frames(1))
    for extension in ("mp4", "mov", "webm"):
        add(f"still-png.{extension}", "still image", _image_bytes(".png"))
    add("still-jpeg.avi", "still image", _image_bytes(".jpg"))

    # Valid, but long: the header says 12 minutes; and the same with the length removed from the header,
    # which a decoder can only learn by decoding every frame.
    long_frames = int(long_minutes * 60 * 5)
    blank = np.zeros((16, 16, 3), np.uint8)
    add("long-12min-header.avi", "valid but decodes for long")
    _write_cv2(folder / "long-12min-header.avi", "MJPG", [blank] * long_frames, fps=5.0)
    add("long-12min-no-duration.mkv", "valid but decodes for long")
    mkv = _write_av(folder / "long-12min-no-duration.mkv", "ffv1", [blank] * long_frames, fps=5, fmt="matroska")
    mkv.write_bytes(_strip_mkv_duration(mkv.read_bytes()))
    return corpus
