"""Where a file came from: C2PA Content Credentials and container metadata, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.provenance.container import ContainerMetadata, read_container
from pipeline.provenance.content_credentials import ContentCredentials, read_content_credentials


@dataclass(frozen=True)
class Provenance:
    c2pa: ContentCredentials
    container: ContainerMetadata

    def to_json_dict(self) -> dict[str, Any]:
        return {"c2pa": self.c2pa.to_json_dict(), "container": self.container.to_json_dict()}


def read_provenance(path: str | Path) -> Provenance:
    """Both checks; neither raises for a file it cannot read, it says so instead."""
    return Provenance(c2pa=read_content_credentials(path), container=read_container(path))


__all__ = ["ContainerMetadata", "ContentCredentials", "Provenance", "read_provenance"]
