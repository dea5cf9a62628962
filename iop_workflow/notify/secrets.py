"""`${NAME}` placeholders of the apprise YAML, filled from the environment or Prefect.

apprise 1.13 leaves `${NAME}` literal (a URL with it would try the password
"${IOP_SMTP_PASSWORD}"), and apprise 2 silently drops an entry whose placeholder is not
declared under `template:`. We fill them ourselves, with the same rule as apprise 2: a
placeholder must be declared under `template:`, and one that is not, or has no value,
stops the start-up with a message naming it (never its value).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from .errors import NotificationConfigError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

BlockLoader = Callable[[str], Mapping[str, Any]]


def prefect_secret_block(name: str) -> Mapping[str, Any]:
    """The JSON object stored in the Prefect Secret block `name` (needs a Prefect API)."""
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(name).get()  # type: ignore[union-attr]
    except Exception as error:  # Prefect raises ValueError, httpx errors, ...
        raise NotificationConfigError(
            f"cannot read the Prefect Secret block '{name}': {type(error).__name__}"
        ) from None
    if not isinstance(value, Mapping):
        raise NotificationConfigError(
            f"the Prefect Secret block '{name}' must hold a JSON object of NAME: value"
        )
    return value


class Placeholders:
    """The declared placeholders and their values, looked up once each."""

    def __init__(
        self,
        declared: Mapping[str, Any],
        *,
        environ: Mapping[str, str] | None = None,
        block: str | None = None,
        load_block: BlockLoader = prefect_secret_block,
    ) -> None:
        self.declared = {str(k): v for k, v in declared.items()}
        self.environ = os.environ if environ is None else environ
        self.block = block
        self.load_block = load_block
        self._block_values: Mapping[str, Any] | None = None
        self.values: dict[str, str] = {}  # every value filled in: all are treated as secret

    def value(self, name: str, where: str) -> str:
        if name in self.values:
            return self.values[name]
        if name not in self.declared:
            raise NotificationConfigError(
                f"{where}: ${{{name}}} is not declared under the top-level 'template:' "
                "section (apprise would silently drop this entry)"
            )
        found = self.environ.get(name)
        if found is None and self.block:
            found = self._from_block(name)
        if found is None and self.declared[name] is not None:
            found = str(self.declared[name])
        if found is None or found == "":
            source = f" or add it to the Prefect Secret block '{self.block}'" if self.block else ""
            raise NotificationConfigError(
                f"{where}: no value for ${{{name}}}: set the environment variable {name}{source}"
            )
        self.values[name] = found
        return found

    def _from_block(self, name: str) -> str | None:
        if self._block_values is None:
            assert self.block is not None
            self._block_values = self.load_block(self.block)
        value = self._block_values.get(name)
        return None if value is None else str(value)

    def fill_url(self, url: str, where: str) -> str:
        # Percent-encoded: a password with '@', ':' or '/' must not change the URL's shape;
        # apprise decodes user and password again.
        return PLACEHOLDER.sub(lambda m: quote(self.value(m.group(1), where), safe=""), url)

    def fill_value(self, value: Any, where: str) -> Any:
        """A YAML token value (`pass: ${X}`): handed to the plugin as it is, unencoded."""
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: self.value(m.group(1), where), value)
        if isinstance(value, list):
            return [self.fill_value(v, where) for v in value]
        if isinstance(value, dict):
            return {k: self.fill_value(v, where) for k, v in value.items()}
        return value
