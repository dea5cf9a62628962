"""The bundled municipal presets: one YAML file per municipality."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from ..domain.errors import InvalidInput
from ..domain.policy import Policy


def preset_names() -> list[str]:
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml"))


@cache
def load_policy(key: str) -> Policy:
    """The preset `key`; an unknown key is refused naming the known ones."""
    if key not in preset_names():
        raise InvalidInput(
            f"unknown preset '{key}'; known presets: {', '.join(preset_names())}",
            field="municipality",
        )
    text = resources.files(__name__).joinpath(f"{key}.yaml").read_text(encoding="utf-8")
    return Policy.from_mapping(yaml.safe_load(text))
