"""``@frozen``: what ``@dataclass(frozen=True, slots=True)`` gives, built at a fraction of the cost.

A frozen dataclass costs about 1.2 ms to create on CPython 3.11: the module compiles six
generated methods one ``exec`` at a time (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__``). A run imports about ninety of them before its first step,
which made them the largest single part of the start-up of ``shipyard run``. Here only
``__init__`` is generated (one small ``exec``); the other methods are shared functions that read
the class's field names; and ``dataclass()`` itself is not called (the fields are read here and
the slotted class is made once), so a class costs about 0.15 ms.

The result is still a dataclass to everything that asks: ``dataclasses.fields``, ``replace``,
``asdict`` and ``is_dataclass`` work, ``__match_args__`` is set, and type checkers treat the
decorator as ``dataclass(frozen=True)`` (``typing.dataclass_transform``). Fields are declared as
for a dataclass, with ``dataclasses.field`` for ``default_factory``, ``repr=False`` and
``compare=False``. It refuses, at import, what Shipyard never uses: ``init=False`` and
keyword-only fields, and ``__post_init__``.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
import types
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_set = object.__setattr__
_FIELD = dataclasses._FIELD  # type: ignore[attr-defined]  # the marker of a regular field
_CLASS_VARIABLE = re.compile(r"(?:typing\.|t\.)?ClassVar\b")
_INIT_VARIABLE = re.compile(r"(?:dataclasses\.)?InitVar\b")


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def frozen(cls: type[T]) -> type[T]:
    """Make ``cls`` an immutable, slotted dataclass (see the module's docstring)."""
    body = dict(cls.__dict__)
    fields = _checked_fields(cls, body)
    inherited = {name for base in cls.__mro__[1:-1] for name in _slots(base)}
    for name in fields:
        body.pop(name, None)
    body.pop("__dict__", None)
    body.pop("__weakref__", None)
    body["__slots__"] = tuple(name for name in fields if name not in inherited)
    body["__dataclass_fields__"] = fields
    body["__match_args__"] = tuple(fields)
    if not body.get("__doc__"):
        body["__doc__"] = cls.__name__
    metaclass: Any = type(cls)
    made: Any = metaclass(cls.__name__, cls.__bases__, body)
    made.__qualname__ = cls.__qualname__
    _add_methods(made, body, tuple(fields.values()))
    # As dataclass(frozen=True) decides: a __hash__ the class wrote is kept; Python's implicit
    # None (the class defines __eq__ only) is not one.
    if "__hash__" not in body or (body["__hash__"] is None and "__eq__" in body):
        made.__hash__ = _hash
    made.__setattr__ = _refuse_set
    made.__delattr__ = _refuse_delete
    made.__getstate__ = _getstate
    made.__setstate__ = _setstate
    return made  # type: ignore[no-any-return]


@dataclass_transform(field_specifiers=(dataclasses.field,))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` what ``@dataclass`` makes of it (mutable, unhashable), built as ``@frozen``.

    The class is kept (no slots are added), its fields get their defaults as class attributes,
    and it has the generated ``__init__`` and the shared ``__repr__`` and ``__eq__``.
    """
    body = dict(cls.__dict__)
    fields = _checked_fields(cls, body)
    made: Any = cls
    for name, item in fields.items():
        if isinstance(body.get(name), dataclasses.Field):
            if item.default is dataclasses.MISSING:
                delattr(made, name)
            else:
                setattr(made, name, item.default)
    made.__dataclass_fields__ = fields
    setattr(made, "__match_args__", tuple(fields))  # noqa: B010 - mypy refuses the attribute
    if not body.get("__doc__"):
        made.__doc__ = cls.__name__
    _add_methods(made, body, tuple(fields.values()))
    if "__hash__" not in body:
        made.__hash__ = None  # as dataclass(eq=True) leaves a mutable class: unhashable
    return made  # type: ignore[no-any-return]


def _checked_fields(cls: type, body: dict[str, Any]) -> dict[str, dataclasses.Field[Any]]:
    if "__post_init__" in body:
        raise TypeError(f"{cls.__qualname__}: @frozen records have no __post_init__")
    fields = _fields(cls, body)
    defaulted = False
    for item in fields.values():
        if not item.init or item.kw_only is True:
            raise TypeError(f"{cls.__qualname__}.{item.name}: @frozen fields are positional")
        missing = item.default is item.default_factory is dataclasses.MISSING
        if missing and defaulted:
            raise TypeError(f"non-default argument {item.name!r} follows default argument")
        defaulted = defaulted or not missing
    return fields


def _add_methods(
    made: Any, body: dict[str, Any], values: tuple[dataclasses.Field[Any], ...]
) -> None:
    made.__init__ = _init(made, values)
    made.__frozen_repr__ = tuple(f.name for f in values if f.repr)
    made.__frozen_key__ = staticmethod(_getter(tuple(f.name for f in values if f.compare)))
    hashed = tuple(f.name for f in values if (f.compare if f.hash is None else f.hash))
    made.__frozen_hash_key__ = staticmethod(_getter(hashed))
    if "__repr__" not in body:
        made.__repr__ = _repr
    if "__eq__" not in body:
        made.__eq__ = _eq


def _fields(cls: type, body: dict[str, Any]) -> dict[str, dataclasses.Field[Any]]:
    """The class's fields, its bases' first, as ``dataclasses.fields`` will list them.

    ``dataclass()`` itself is not called: it costs five times what the rest of ``@frozen`` does
    (it inspects every annotation's text and builds the slotted class a second time).
    """
    fields: dict[str, dataclasses.Field[Any]] = {}
    for base in reversed(cls.__mro__[1:-1]):
        fields.update(getattr(base, "__dataclass_fields__", {}))
    for name, annotation in body.get("__annotations__", {}).items():
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if _CLASS_VARIABLE.match(text):
            continue
        if _INIT_VARIABLE.match(text):
            raise TypeError(f"{cls.__qualname__}.{name}: @frozen records have no InitVar")
        default = body.get(name, dataclasses.MISSING)
        if isinstance(default, dataclasses.Field):
            item = default
        else:
            if default is not dataclasses.MISSING and type(default).__hash__ is None:
                raise ValueError(
                    f"mutable default {type(default)} for field {name} is not allowed: "
                    "use default_factory"
                )
            item = dataclasses.field(default=default)
        item.name = name
        item.type = annotation
        item._field_type = _FIELD  # type: ignore[attr-defined]  # what fields() selects
        if item.kw_only is dataclasses.MISSING:
            item.kw_only = False
        fields[name] = item
    return fields


def _slots(base: type) -> tuple[str, ...]:
    slots = base.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    """The class's ``__init__``: a compiled template for its shape, given the field names.

    Classes whose fields have the same shape (how many, and which have a default factory) share
    one compiled template: its code is copied with the field names put in place of the
    template's, and the function gets the class's defaults (which parameters have one is not
    part of the code). Compiling from source, as dataclasses does, was the larger part of making
    a class, and there are far fewer shapes than classes.
    """
    missing = dataclasses.MISSING
    defaults: list[Any] = []
    factories: dict[str, Any] = {}
    shape: list[str] = []
    for index, item in enumerate(fields):
        if item.default is not missing:
            defaults.append(item.default)
            shape.append("value")
        elif item.default_factory is not missing:
            defaults.append(missing)
            factories[f"__factory{index}"] = item.default_factory
            shape.append("factory")
        else:
            shape.append("value")
    template = _template(tuple(shape))
    names = tuple(item.name for item in fields)
    renamed = dict(zip(_placeholders(len(names)), names, strict=True))
    code = template.replace(
        co_varnames=("self", *names),
        co_consts=tuple(renamed.get(c, c) if type(c) is str else c for c in template.co_consts),
        co_qualname=f"{cls.__qualname__}.__init__",
    )
    init: Callable[..., None] = types.FunctionType(
        code,
        {"__set": _set, "__missing": missing, **factories},
        "__init__",
        tuple(defaults) or None,
    )
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _placeholders(count: int) -> list[str]:
    return [f"__field{index}" for index in range(count)]


@functools.cache
def _template(shape: tuple[str, ...]) -> types.CodeType:
    """The code of ``__init__`` for fields of this shape, named ``__field0``, ``__field1``..."""
    parameters: list[str] = []
    lines: list[str] = []
    for index, (name, kind) in enumerate(zip(_placeholders(len(shape)), shape, strict=True)):
        parameters.append(name)
        value = f"__factory{index}() if {name} is __missing else {name}"
        lines.append(f"    __set(self, {name!r}, {value if kind == 'factory' else name})")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + ("\n".join(lines) or "    pass")
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    code: types.CodeType = namespace["__init__"].__code__
    return code


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving the named attributes of an object as a tuple."""
    if not names:
        return _nothing
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda value: (one(value),)
    return operator.attrgetter(*names)


def _nothing(value: object) -> tuple[()]:
    return ()


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__frozen_repr__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self.__frozen_key__
    return key(self) == key(other)


def _hash(self: Any) -> int:
    return hash(self.__frozen_hash_key__(self))


def _refuse_set(self: object, name: str, value: object) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delete(self: object, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, item.name) for item in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for item, value in zip(dataclasses.fields(self), state, strict=True):
        _set(self, item.name, value)
