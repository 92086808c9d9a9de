"""Fetch a clip from a link with yt-dlp, within a size and duration cap, refusing internal addresses.

A newsroom server must not become a way into its own network: http(s) only, and every address
the host name resolves to (and the media URL yt-dlp finds behind a page) must be a public one.
Loopback can be allowed by a setting for tests; private and link-local addresses never are.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import PipelineError

ALLOWED_SCHEMES = ("http", "https")


class FetchError(PipelineError):
    """The link was refused or could not be fetched."""


@dataclass(frozen=True)
class LinkSource:
    """Where an analysed clip was fetched from, recorded in the result and the reports."""

    url: str
    fetched_at: str  # ISO 8601, UTC
    title: str | None = None
    extractor: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict[str, Any] | None) -> LinkSource | None:
        if not data:
            return None
        return cls(str(data["url"]), str(data["fetched_at"]), data.get("title"), data.get("extractor"))


@dataclass(frozen=True)
class FetchedClip:
    path: Path
    source: LinkSource


def refused_address(address: str, allow_loopback: bool) -> str | None:
    """Why this IP address may not be fetched, or None when it may."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "not a public internet address (it reaches this server)"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address (this server itself)"
    if ip.is_link_local:
        return "a link-local address (cloud metadata and local devices live there)"
    if ip.is_private:
        return "a private network address"
    if ip.is_multicast or ip.is_reserved or not ip.is_global:
        return "not a public internet address"
    return None


def check_url(url: str, allow_loopback: bool = False) -> None:
    """Raise FetchError unless `url` is http(s) and its host resolves only to allowed addresses."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise FetchError(f"{url}: only http and https links can be analysed")
    host = parts.hostname
    if not host:
        raise FetchError(f"{url}: the link has no host name")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, ValueError) as error:
        raise FetchError(f"{url}: cannot resolve {host} ({error})") from error
    for info in infos:
        reason = refused_address(str(info[4][0]), allow_loopback)
        if reason:
            raise FetchError(f"{url}: refused, {host} is {reason}")


def fetch_video(
    url: str,
    destination: Path,
    *,
    max_bytes: int,
    max_duration_s: float,
    allow_loopback: bool = False,
    timeout_s: float = 30.0,
) -> FetchedClip:
    """Download the video behind `url` into the folder `destination` and return where it is."""
    import yt_dlp

    check_url(url, allow_loopback)
    destination.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "outtmpl": str(destination / "%(id).80s.%(ext)s"),
        "format": "best[ext=mp4]/best",  # one file: no merging, which would need an ffmpeg binary
        "noplaylist": True,
        "max_filesize": max_bytes,
        "socket_timeout": timeout_s,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "restrictfilenames": True,
        "cachedir": False,
    }
    try:
        with yt_dlp.YoutubeDL(options) as downloader:
            info = downloader.extract_info(url, download=False)
            if info is None:
                raise FetchError(f"{url}: no video found at this link")
            if info.get("_type") == "playlist":
                raise FetchError(f"{url}: a playlist; paste the link of one video")
            media_url = info.get("url")
            if media_url:
                check_url(str(media_url), allow_loopback)  # the page may point at an internal address
            duration = info.get("duration")
            if duration and float(duration) > max_duration_s:
                raise FetchError(
                    f"{url}: the video is {float(duration):.0f} s long, over the {max_duration_s:.0f} s cap"
                )
            size = info.get("filesize") or info.get("filesize_approx")
            if size and int(size) > max_bytes:
                raise FetchError(
                    f"{url}: the video is {int(size) / 1024**2:.0f} MB, over the {max_bytes / 1024**2:.0f} MB cap"
                )
            info = downloader.process_ie_result(info, download=True)
            path = Path(downloader.prepare_filename(info))
    except yt_dlp.utils.DownloadError as error:
        raise FetchError(f"{url}: could not fetch the video ({_first_line(error)})") from error
    if not path.exists():
        raise FetchError(f"{url}: nothing was downloaded (over the {max_bytes / 1024**2:.0f} MB cap?)")
    if path.stat().st_size > max_bytes:
        path.unlink()
        raise FetchError(f"{url}: the download is over the {max_bytes / 1024**2:.0f} MB cap")
    _check_duration(path, url, max_duration_s)
    source = LinkSource(
        url=url,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        title=info.get("title"),
        extractor=info.get("extractor_key") or info.get("extractor"),
    )
    return FetchedClip(path=path, source=source)


def _check_duration(path: Path, url: str, max_duration_s: float) -> None:
    """Links to plain files state no duration before the download: measure it after."""
    import av

    try:
        with av.open(str(path)) as container:
            duration = container.duration / 1_000_000 if container.duration else None
    except Exception:  # not a readable video: scoring will say so in its own words
        return
    if duration is not None and duration > max_duration_s:
        path.unlink()
        raise FetchError(f"{url}: the video is {duration:.0f} s long, over the {max_duration_s:.0f} s cap")


def _first_line(error: Exception) -> str:
    text = str(error).replace("ERROR: ", "")
    return text.splitlines()[0] if text else type(error).__name__
