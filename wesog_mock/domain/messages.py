"""Every message the fake gives about an item, in the five languages of `lang`, side by side.

The real service's wording is not documented; these say the same thing in each language and
always name the image id, so a client can show them to a person (A2).
"""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGUAGES", "Lang", "MessageKey", "item_message"]

Lang = Literal["en", "es", "pt", "fr", "ru"]
MessageKey = Literal["already_exists", "does_not_exist", "injected_failure"]
LANGUAGES: tuple[Lang, ...] = ("en", "es", "pt", "fr", "ru")

_MESSAGES: dict[MessageKey, dict[Lang, str]] = {
    "already_exists": {
        "en": "Image '{id}' already exists.",
        "es": "La imagen '{id}' ya existe.",
        "pt": "A imagem '{id}' já existe.",
        "fr": "L'image '{id}' existe déjà.",
        "ru": "Изображение '{id}' уже существует.",
    },
    "does_not_exist": {
        "en": "Image '{id}' does not exist.",
        "es": "La imagen '{id}' no existe.",
        "pt": "A imagem '{id}' não existe.",
        "fr": "L'image '{id}' n'existe pas.",
        "ru": "Изображение '{id}' не существует.",
    },
    "injected_failure": {
        "en": "Image '{id}' could not be processed: {reason}",
        "es": "No se pudo procesar la imagen '{id}': {reason}",
        "pt": "Não foi possível processar a imagem '{id}': {reason}",
        "fr": "L'image '{id}' n'a pas pu être traitée : {reason}",
        "ru": "Не удалось обработать изображение '{id}': {reason}",
    },
}


def item_message(key: MessageKey, lang: str, image_id: str, reason: str = "") -> str:
    """The message `key` in `lang` (English for an unknown language), naming `image_id`."""
    texts = _MESSAGES[key]
    template: str = texts.get(lang, texts["en"])  # type: ignore[call-overload]
    return template.format(id=image_id, reason=reason)
