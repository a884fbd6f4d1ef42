"""Bilingual text: customers read Indonesian first, English for everyone else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """One message in Indonesian (``id``) and English (``en``)."""

    id: str
    en: str

    def __str__(self) -> str:
        return f"{self.id} / {self.en}"

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "en": self.en}
