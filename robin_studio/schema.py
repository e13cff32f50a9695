"""A small explicit schema checker for JSON that comes from outside (project files, the
autosave, the session marker, the score header embedded in our MIDI files).

A schema is built from a few node types (`Num`, `Int`, `Str`, `Bool`, `Enum`, `List`,
`Tuple`, `Obj`, `Nullable`, `Path`) and `check(schema, data)` raises `SchemaError` naming
the first field that is wrong ("settings.tempo_bpm: nan is not a finite number"). Numbers
must be finite and within their range, strings and lists bounded in length, objects must be
dicts (not lists). Unknown keys are allowed (newer files may carry more), so adding a field
is one line in the owner's schema: `PROJECT_SCHEMA.fields["takes"] = List(TAKE, 1000)`.

Plain code, no dependencies: the rules a hostile file must pass are all readable here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any


class SchemaError(ValueError):
    """`where`: the dotted path of the bad field; the message says what is wrong with it."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the file'}: {problem}")
        self.where = where
        self.problem = problem


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Node:
    def check(self, value: Any, where: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class Num(Node):
    low: float = -math.inf
    high: float = math.inf

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SchemaError(where, f"{_short(value)} is not a number")
        if not math.isfinite(float(value)):
            raise SchemaError(where, f"{value} is not a finite number")
        if not self.low <= value <= self.high:
            raise SchemaError(where, f"{value:g} is outside {self.low:g}..{self.high:g}")


@dataclass
class Int(Node):
    low: int = -(2**63)
    high: int = 2**63 - 1

    def check(self, value, where):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(where, f"{_short(value)} is not a whole number")
        if not self.low <= value <= self.high:
            raise SchemaError(where, f"{value} is outside {self.low}..{self.high}")


@dataclass
class Str(Node):
    max_len: int = 10_000

    def check(self, value, where):
        if not isinstance(value, str):
            raise SchemaError(where, f"{_short(value)} is not text")
        if len(value) > self.max_len:
            raise SchemaError(where, f"text of {len(value)} characters (at most {self.max_len})")
        if "\x00" in value:
            raise SchemaError(where, "text holds a NUL character")


class Bool(Node):
    def check(self, value, where):
        if not isinstance(value, bool):
            raise SchemaError(where, f"{_short(value)} is not true/false")


@dataclass
class Enum(Node):
    choices: tuple

    def check(self, value, where):
        if isinstance(value, (dict, list)) or value not in self.choices:
            raise SchemaError(where, f"{_short(value)} is not one of {', '.join(map(str, self.choices))}")


@dataclass
class Scalar(Node):
    """Any plain JSON value that is not a container: bounded text, finite number, bool, null."""
    max_len: int = 10_000

    def check(self, value, where):
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            Num().check(value, where)
        elif isinstance(value, str):
            Str(self.max_len).check(value, where)
        else:
            raise SchemaError(where, f"{_short(value)} is not a plain value")


@dataclass
class Nullable(Node):
    inner: Node

    def check(self, value, where):
        if value is not None:
            self.inner.check(value, where)


@dataclass
class List(Node):
    item: Node
    max_len: int = 10_000
    min_len: int = 0

    def check(self, value, where):
        if not isinstance(value, list):
            raise SchemaError(where, f"{_short(value)} is not a list")
        if not self.min_len <= len(value) <= self.max_len:
            raise SchemaError(where, f"a list of {len(value)} items ({self.min_len}..{self.max_len} allowed)")
        for i, item in enumerate(value):
            self.item.check(item, f"{where}[{i}]")


@dataclass
class Tuple(Node):
    items: tuple

    def check(self, value, where):
        if not isinstance(value, list) or len(value) != len(self.items):
            raise SchemaError(where, f"{_short(value)} is not a list of {len(self.items)} items")
        for i, (node, item) in enumerate(zip(self.items, value)):
            node.check(item, f"{where}[{i}]")


@dataclass
class Map(Node):
    """A dict with free keys (bounded) and values of one kind."""
    value: Node
    max_len: int = 1000

    def check(self, value, where):
        if not isinstance(value, dict):
            raise SchemaError(where, f"{_short(value)} is not an object")
        if len(value) > self.max_len:
            raise SchemaError(where, f"{len(value)} entries (at most {self.max_len})")
        for key, item in value.items():
            Str(200).check(key, f"{where}.<key>")
            self.value.check(item, f"{where}.{key}")


@dataclass
class Obj(Node):
    """A dict with known fields; `required` must be present, the rest may be missing."""
    fields: dict[str, Node]
    required: tuple = ()
    extra: bool = True            # unknown keys allowed (kept by nobody, harmless)

    def check(self, value, where):
        if not isinstance(value, dict):
            raise SchemaError(where, f"{_short(value)} is not an object")
        for key in self.required:
            if key not in value:
                raise SchemaError(f"{where}.{key}" if where else key, "is missing")
        for key, item in value.items():
            node = self.fields.get(key)
            if node is None:
                if not self.extra:
                    raise SchemaError(where, f"unexpected field {_short(key)}")
                continue
            node.check(item, f"{where}.{key}" if where else key)


@dataclass
class FilePath(Node):
    """A path to a user's media file: text, absolute or relative, never a device or system
    file (a hostile project naming /etc/shadow or /dev/zero as its clip)."""
    max_len: int = 4096
    forbidden_roots: tuple = ("/dev", "/proc", "/sys", "/etc", "/run")

    def check(self, value, where):
        Str(self.max_len).check(value, where)
        if not value:
            return
        resolved = os.path.realpath(os.path.expanduser(value))
        for root in self.forbidden_roots:
            if resolved == root or resolved.startswith(root + os.sep):
                raise SchemaError(where, f"{_short(value)} is a system path, not a media file")


def check(schema: Node, data: Any, where: str = "") -> None:
    """Raise `SchemaError` at the first field of `data` that does not fit `schema`."""
    try:
        schema.check(data, where)
    except RecursionError:
        raise SchemaError(where, "nested too deeply") from None


__all__ = ["SchemaError", "Num", "Int", "Str", "Bool", "Enum", "Scalar", "Nullable", "List", "Tuple",
           "Map", "Obj", "FilePath", "check"]
