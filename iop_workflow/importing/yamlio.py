"""Reading YAML (an import file, a step's --file) strictly enough that mistakes surface
as messages, and bounded, so that no file of any content can hang the reader.

A YAML alias repeats a whole subtree and a merge key (`<<: [*a, *a]`) copies one: a 1 KB
file can stand for 2**40 values. The document is therefore composed as a graph first
(linear in the text), its size counted with every alias expanded, within a budget, and
only then turned into Python objects.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..domain.errors import InvalidInput

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"

# An import file of a thousand agreements is about 5 MB and 300 000 values, nested 8
# levels deep; a step file is a few lines. Nothing real comes near these limits.
MAX_BYTES = 5_000_000
MAX_VALUES = 1_000_000  # scalars, sequences and mappings, every alias expanded
MAX_DEPTH = 20


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text and stops nesting at `MAX_DEPTH`.

    PyYAML would turn `2027-02-30` into a bare ValueError without a position. Duplicate
    keys are refused by `_check` (PyYAML would keep only the last of two).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        # Stop before Python's recursion limit does, and say where.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # Explicit tags (!!int x, !!timestamp 2027-02-30) fail inside PyYAML's
        # constructors without a position; give them the node's.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, ArithmeticError) as error:
            raise ConstructorError(
                None, None, f"cannot read this value: {error}", node.start_mark
            ) from None

    def refuse_duplicate_keys(self, node: MappingNode) -> None:
        """Two keys of `node` that are the same text (`2027` and `'2027'`: the import and
        the steps read keys as text) or the same Python key (`1` and `true`) would lose
        one value silently."""
        by_text: dict[str, ScalarNode] = {}
        by_value: dict[Any, ScalarNode] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node)
            text = str(key).strip()
            earlier = by_text.get(text)
            if earlier is None:
                try:
                    earlier = by_value.get(key)
                except TypeError:  # unhashable: PyYAML says so while constructing
                    earlier = None
            if earlier is not None:
                first, second = _written(earlier), _written(key_node)
                how = "" if first == second else f" (written {first} and {second})"
                raise ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key '{text}' twice{how}",
                    key_node.start_mark,
                )
            by_text[text] = key_node
            try:
                by_value[key] = key_node
            except TypeError:
                pass


def _written(node: ScalarNode) -> str:
    quote = node.style if node.style in ("'", '"') else ""
    return f"{quote}{node.value}{quote}"


def _check(loader: _StrictLoader, root: Node) -> None:
    """Count the values of the document rooted at `root` as construction would see them,
    every alias expanded, and stop at `MAX_VALUES` or `MAX_DEPTH`; refuse duplicate keys.

    Iterative, and every alias counts each time it is used, so an alias bomb (or an alias
    cycle) ends at the budget in well under a second instead of running on."""
    budget = MAX_VALUES - 1
    checked: set[int] = set()
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConstructorError(
                None,
                None,
                f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
                node.start_mark,
            )
        children: list[tuple[Node, int]] = []
        if isinstance(node, MappingNode):
            if id(node) not in checked:
                checked.add(id(node))
                loader.refuse_duplicate_keys(node)
            for key, value in node.value:
                if key.tag == _MERGE:
                    # What a merge key names becomes part of this mapping: same depth.
                    merged = value.value if isinstance(value, SequenceNode) else [value]
                    children += [(key, depth + 1), *((m, depth) for m in merged)]
                else:
                    children += [(key, depth + 1), (value, depth + 1)]
        elif isinstance(node, SequenceNode):
            children = [(item, depth + 1) for item in node.value]
        budget -= len(children)
        if budget < 0:
            raise InvalidInput(
                f"more than {MAX_VALUES:,} values once its aliases (*name) and merge keys "
                "(<<) are expanded; refused before reading further",
                record="document",
            )
        stack.extend(children)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(text: str) -> object:
    """The YAML document in `text` as plain data; problems name line and column.

    Bounded: at most `MAX_BYTES` of text, `MAX_DEPTH` levels and `MAX_VALUES` values
    with aliases expanded, all checked before any object is built."""
    if not isinstance(text, str):
        raise InvalidInput(f"expected YAML text, got {type(text).__name__}", record="document")
    if len(text) > MAX_BYTES:
        raise InvalidInput(_too_large("the document"), record="document")
    try:
        return _load(text)
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
        if isinstance(error, InvalidInput):
            raise
        raise InvalidInput(f"a value cannot be read: {error}", record="document") from None


def _load(text: str) -> object:
    loader = _StrictLoader(text)  # reading starts here: unprintable characters are refused
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check(loader, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _too_large(what: str) -> str:
    return f"{what} is larger than {MAX_BYTES:,} bytes, the most this reads"


def read_text_file(path: str, *, what: str) -> str:
    """The UTF-8 text of the file `path` (at most `MAX_BYTES`, read no further: a device or
    a huge file never fills the memory); problems name the file and `what` (the field)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field=what) from None
    if len(data) > MAX_BYTES:
        raise InvalidInput(_too_large(path), field=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InvalidInput(
            f"{path} is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}; "
            "save it as UTF-8)",
            field=what,
        ) from None
