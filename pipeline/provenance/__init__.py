"""Where a file came from: C2PA Content Credentials and container metadata, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.provenance.container import ContainerMetadata, container_from_json, read_container
from pipeline.provenance.content_credentials import ContentCredentials, credentials_from_json, read_content_credentials


@dataclass(frozen=True)
class Provenance:
    c2pa: ContentCredentials
    container: ContainerMetadata

    def to_json_dict(self) -> dict[str, Any]:
        return {"c2pa": self.c2pa.to_json_dict(), "container": self.container.to_json_dict()}

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Provenance:
        return cls(c2pa=credentials_from_json(data["c2pa"]), container=container_from_json(data["container"]))


def read_provenance(path: str | Path) -> Provenance:
    """Both checks; neither raises for a file it cannot read, it says so instead."""
    return Provenance(c2pa=read_content_credentials(path), container=read_container(path))


__all__ = ["ContainerMetadata", "ContentCredentials", "Provenance", "read_provenance"]
