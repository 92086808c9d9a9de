"""Container metadata read with PyAV, with hints a journalist can act on.

Metadata is easy to strip or forge: these are leads for questions to the source, not proof.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Tags that name the software or device that wrote the file.
SOFTWARE_TAGS = (
    "encoder",
    "software",
    "com.apple.quicktime.software",
    "com.apple.quicktime.make",
    "com.apple.quicktime.model",
    "com.android.version",
    "make",
    "model",
    "comment",
    "title",
)
EPOCH_STARTS = ("1970-01-01", "1904-01-01")


@dataclass(frozen=True)
class StreamSummary:
    kind: str  # video, audio, data, subtitle
    codec: str | None
    handler_name: str | None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    language: str | None = None


@dataclass(frozen=True)
class ContainerMetadata:
    readable: bool
    format_name: str | None = None
    major_brand: str | None = None
    creation_time: str | None = None
    encoder: str | None = None
    software_tags: tuple[tuple[str, str], ...] = ()
    handler_names: tuple[str, ...] = ()
    streams: tuple[StreamSummary, ...] = ()
    duration_s: float | None = None
    bit_rate: int | None = None
    error: str | None = None

    @property
    def has_audio(self) -> bool:
        return any(stream.kind == "audio" for stream in self.streams)

    @property
    def hints(self) -> tuple[str, ...]:
        return container_hints(self)

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["software_tags"] = dict(self.software_tags)
        data["has_audio"] = self.has_audio
        data["hints"] = list(self.hints)
        return data


def container_from_json(data: dict[str, Any]) -> ContainerMetadata:
    """The inverse of `ContainerMetadata.to_json_dict` (for stored results)."""
    return ContainerMetadata(
        readable=bool(data["readable"]),
        format_name=data.get("format_name"),
        major_brand=data.get("major_brand"),
        creation_time=data.get("creation_time"),
        encoder=data.get("encoder"),
        software_tags=tuple((str(k), str(v)) for k, v in (data.get("software_tags") or {}).items()),
        handler_names=tuple(data.get("handler_names") or ()),
        streams=tuple(StreamSummary(**s) for s in data.get("streams") or []),
        duration_s=data.get("duration_s"),
        bit_rate=data.get("bit_rate"),
        error=data.get("error"),
    )


def read_container(path: str | Path) -> ContainerMetadata:
    import av

    try:
        with av.open(str(path)) as container:
            tags = {str(k).lower(): str(v) for k, v in (container.metadata or {}).items()}
            streams = []
            for stream in container.streams:
                meta = {str(k).lower(): str(v) for k, v in (stream.metadata or {}).items()}
                codec = stream.codec_context.name if stream.codec_context is not None else None
                rate = getattr(stream, "average_rate", None) if stream.type == "video" else None
                streams.append(
                    StreamSummary(
                        kind=str(stream.type),
                        codec=codec,
                        handler_name=meta.get("handler_name"),
                        width=getattr(stream.codec_context, "width", None) if stream.type == "video" else None,
                        height=getattr(stream.codec_context, "height", None) if stream.type == "video" else None,
                        fps=round(float(rate), 3) if rate else None,
                        language=meta.get("language"),
                    )
                )
                for key in ("creation_time", "encoder"):
                    tags.setdefault(key, meta[key]) if key in meta else None
            duration = container.duration / 1_000_000 if container.duration else None
            return ContainerMetadata(
                readable=True,
                format_name=container.format.name,
                major_brand=tags.get("major_brand"),
                creation_time=tags.get("creation_time"),
                encoder=tags.get("encoder"),
                software_tags=tuple((k, tags[k]) for k in SOFTWARE_TAGS if k in tags),
                handler_names=tuple(dict.fromkeys(s.handler_name for s in streams if s.handler_name)),
                streams=tuple(streams),
                duration_s=round(duration, 3) if duration else None,
                bit_rate=int(container.bit_rate) if container.bit_rate else None,
            )
    except Exception as error:  # any unreadable container: say so, never crash the analysis
        return ContainerMetadata(readable=False, error=f"{type(error).__name__}: {error}")


def container_hints(meta: ContainerMetadata) -> tuple[str, ...]:
    """Plain-language leads from the metadata."""
    if not meta.readable:
        return ("The container could not be read, so no metadata is available.",)
    hints = []
    encoder = (meta.encoder or "").lower()
    handlers = " ".join(meta.handler_names).lower()
    if encoder.startswith("lavf") or "ffmpeg" in encoder:
        hints.append(
            f"Written by FFmpeg ({meta.encoder}): the file was re-encoded or re-packaged by software, "
            "not straight from a camera. Common for downloads and edits."
        )
    elif meta.encoder:
        hints.append(f"Encoder tag: {meta.encoder}.")
    if "google" in handlers or (meta.major_brand or "").startswith("dash"):
        hints.append("Handler names point to Google/YouTube processing: likely downloaded from a platform.")
    if "core media" in handlers:
        hints.append("Handler 'Core Media' points to Apple software or an Apple device.")
    tags = dict(meta.software_tags)
    for key in ("com.apple.quicktime.make", "com.apple.quicktime.model", "make", "model"):
        if key in tags:
            hints.append(f"Device tag {key}: {tags[key]}.")
    if not meta.creation_time:
        hints.append("No creation time: it was stripped or never written (platforms and editors often drop it).")
    elif meta.creation_time.startswith(EPOCH_STARTS):
        hints.append(f"Creation time is a zero date ({meta.creation_time}): the writer did not set a real one.")
    if not meta.has_audio and any(s.kind == "video" for s in meta.streams):
        hints.append("No audio track: camera and phone footage almost always has one; it may have been removed.")
    return tuple(hints)
