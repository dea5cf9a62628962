"""Reading the import file's YAML strictly enough that mistakes surface as messages."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode

from ..domain.errors import InvalidInput

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text and refuses duplicate keys.

    PyYAML would turn `2027-02-30` into a bare ValueError without a position, and
    would silently keep only the last of two equal keys (a lost support year).
    """

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # Explicit tags (!!int x, !!timestamp 2027-02-30) fail inside PyYAML's
        # constructors without a position; give them the node's.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, ArithmeticError) as error:
            raise ConstructorError(
                None, None, f"cannot read this value: {error}", node.start_mark
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE:
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found the key '{key_node.value}' twice",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(text: str) -> object:
    """The YAML document in `text` as plain data; problems name line and column."""
    if not isinstance(text, str):
        raise InvalidInput(f"expected YAML text, got {type(text).__name__}", record="document")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = error.problem or error.context or "not valid YAML"
        raise InvalidInput(f"{where}{problem}", record="document") from None
    except yaml.YAMLError as error:
        raise InvalidInput(f"not valid YAML: {error}", record="document") from None
    except RecursionError:
        raise InvalidInput("nested too deeply", record="document") from None
    except (ValueError, TypeError, ArithmeticError) as error:
        raise InvalidInput(f"a value cannot be read: {error}", record="document") from None
