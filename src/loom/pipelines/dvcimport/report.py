"""What ``loom import-dvc`` did, and what needs the user's attention."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Note:
    """One line of the report: what (data, stage, remote, pipeline), which one, and what."""

    kind: str
    name: str
    message: str
    hint: str | None = None


@dataclass
class Report:
    root: str
    converted: list[Note] = field(default_factory=list)
    attention: list[Note] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # files created or changed, root-relative

    def done(self, kind: str, name: str, message: str) -> None:
        self.converted.append(Note(kind, name, message))

    def needs(self, kind: str, name: str, message: str, hint: str | None = None) -> None:
        self.attention.append(Note(kind, name, message, hint))

    def wrote(self, rel: str) -> None:
        if rel not in self.written:
            self.written.append(rel)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "converted": [asdict(n) for n in self.converted],
            "attention": [asdict(n) for n in self.attention],
            "written": sorted(self.written),
        }
