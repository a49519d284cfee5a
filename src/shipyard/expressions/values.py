"""Values of the expression language and GitHub's rules for them. Pure: no I/O.

Values are plain Python: ``None`` (null), ``bool``, ``int``/``float`` (number), ``str``, ``list``
(array) and ``dict`` (object); any other ``Mapping`` counts as an object and any other non-string
``Sequence`` as an array. This module holds GitHub's coercions (to number, to string, truthiness),
its loose equality and ordering (strings compared case-insensitively, objects and arrays by
reference), case-insensitive property lookup and the object filter (``.*``, ``[*]``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

# Kinds, numbered so a comparison is cheap. KIND_NAMES holds the names GitHub prints.
NULL: Final = 0
BOOLEAN: Final = 1
NUMBER: Final = 2
STRING: Final = 3
ARRAY: Final = 4
OBJECT: Final = 5
KIND_NAMES: Final = ("Null", "Boolean", "Number", "String", "Array", "Object")

MISSING: Final[Any] = object()
"""What a lookup returns for an absent property (``None`` is a present null)."""

_EXACT_INTEGERS: Final = 2**53
# Possessive quantifiers: a long string that is almost a number must not backtrack (quadratic).
_DECIMAL = re.compile(r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+")
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_OCTAL_DIGITS: Final = frozenset("01234567")
_DOTLESS_I: Final = "\u0131"


class FilteredArray(list[Any]):
    """The array an object filter makes (``a.*``, ``a[*]``).

    Accessing a property or an index of a filtered array applies it to every item and keeps the
    items that have it, so ``commits.*.author.name`` is the list of author names.
    """


def kind_of(value: Any) -> int:
    """The kind of a value: NULL, BOOLEAN, NUMBER, STRING, ARRAY or OBJECT."""
    value_type = type(value)
    if value_type is str:
        return STRING
    if value is None:
        return NULL
    if value_type is bool:
        return BOOLEAN
    if value_type is int or value_type is float:
        return NUMBER
    if value_type is dict:
        return OBJECT
    if value_type is list or value_type is FilteredArray:
        return ARRAY
    return _kind_of_other(value)


def _kind_of_other(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, Mapping):
        return OBJECT
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return ARRAY
    # Something that is not JSON-like: opaque, like an object GitHub cannot look into.
    return OBJECT


def is_primitive(value: Any) -> bool:
    """Null, boolean, number or string: the kinds that convert to a string by value."""
    return kind_of(value) <= STRING


def number(value: float) -> int | float:
    """A float as the number the API returns: an ``int`` when integral and exact, else a float."""
    if value.is_integer() and -_EXACT_INTEGERS <= value <= _EXACT_INTEGERS:
        return int(value)
    return value


def _integer(value: int) -> int | float:
    if -_EXACT_INTEGERS <= value <= _EXACT_INTEGERS:
        return value
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def parse_number(text: str) -> int | float:
    """GitHub's conversion of a string to a number (JavaScript's ``Number()``, nearly).

    Surrounding whitespace is ignored, an empty string is 0, decimals may have a sign, a fraction
    and an exponent, ``0x`` is hexadecimal and ``0o`` octal, ``Infinity`` may have a sign;
    anything else is NaN.
    """
    text = text.strip()
    if not text:
        return 0
    if _DECIMAL.fullmatch(text):
        return number(float(text))
    if len(text) > 2 and text[0] == "0":
        digits = text[2:]
        if text[1] == "x" and _HEX_DIGITS.issuperset(digits):
            return _integer(int(digits, 16))
        if text[1] == "o" and _OCTAL_DIGITS.issuperset(digits):
            return _integer(int(digits, 8))
    if text in ("Infinity", "+Infinity"):
        return math.inf
    if text == "-Infinity":
        return -math.inf
    return math.nan


def to_number(value: Any) -> int | float:
    """GitHub's coercion to a number: null 0, booleans 1 and 0, strings parsed, else NaN."""
    kind = kind_of(value)
    if kind == NUMBER:
        return value if type(value) is int or type(value) is float else float(value)
    if kind == STRING:
        return parse_number(value)
    if kind == BOOLEAN:
        return 1 if value else 0
    if kind == NULL:
        return 0
    return math.nan


def format_number(value: float) -> str:
    """A number as GitHub writes it: 15 significant digits, ``1E+15``, ``NaN``, ``Infinity``."""
    if type(value) is int and -(10**15) < value < 10**15:
        return str(value)
    try:
        as_float = float(value)
    except OverflowError:
        as_float = math.inf if value > 0 else -math.inf
    if math.isnan(as_float):
        return "NaN"
    if as_float in (math.inf, -math.inf):
        return "Infinity" if as_float > 0 else "-Infinity"
    if as_float == 0:
        return "0"  # also for -0, as GitHub prints it
    return format(as_float, ".15g").replace("e", "E")


def to_string(value: Any) -> str:
    """GitHub's coercion of a value to a string.

    Null is empty, booleans are ``true``/``false``, numbers use :func:`format_number`, arrays
    and objects are the words ``Array`` and ``Object``.
    """
    value_type = type(value)
    if value_type is str:
        return value  # type: ignore[no-any-return]
    kind = kind_of(value)
    if kind == NULL:
        return ""
    if kind == BOOLEAN:
        return "true" if value else "false"
    if kind == NUMBER:
        return format_number(value)
    if kind == STRING:
        return str(value)
    return "Array" if kind == ARRAY else "Object"


def truthy(value: Any) -> bool:
    """GitHub's truthiness: null, false, 0, NaN and the empty string are false, all else true."""
    value_type = type(value)
    if value_type is bool:
        return value  # type: ignore[no-any-return]
    if value_type is str:
        return len(value) > 0
    if value is None:
        return False
    kind = kind_of(value)
    if kind == NUMBER:
        return not math.isnan(value) and bool(value != 0)
    if kind == STRING:
        return len(value) > 0
    if kind == BOOLEAN:
        return bool(value)
    return True


def fold_case(text: str) -> str:
    """The form in which GitHub compares strings case-insensitively (ordinal, ignoring case).

    Each character is upper-cased on its own, as .NET does; a character whose upper case is
    longer (``ß``) stays as it is, and the dotless ``ı`` is not folded to ``I``.
    """
    if text.isascii():
        return text.upper()
    upper = text.upper()
    if len(upper) == len(text) and _DOTLESS_I not in text:
        return upper
    return "".join(_fold_character(character) for character in text)


def _fold_character(character: str) -> str:
    if character == _DOTLESS_I:
        return character
    upper = character.upper()
    return upper if len(upper) == 1 else character


def _utf16_order(left: str, right: str) -> int:
    """-1, 0 or 1: ordinal order of two strings by UTF-16 code units, as .NET orders them."""
    if not (left.isascii() and right.isascii()):
        left_units = left.encode("utf-16-be", "surrogatepass")
        right_units = right.encode("utf-16-be", "surrogatepass")
        return (left_units > right_units) - (left_units < right_units)
    return (left > right) - (left < right)


def _coerce(left: Any, right: Any) -> tuple[int, Any, Any]:
    """GitHub's coercion before a comparison: the common kind and both values converted to it.

    Like JavaScript's loose equality, except that objects and arrays are never converted: number
    and string compare as numbers, null and booleans become numbers. When the kinds still differ,
    the returned kind is -1 and the comparison is false.
    """
    left_kind = kind_of(left)
    right_kind = kind_of(right)
    while left_kind != right_kind:
        if left_kind == NUMBER and right_kind == STRING:
            right, right_kind = to_number(right), NUMBER
        elif (left_kind == STRING and right_kind == NUMBER) or left_kind in (NULL, BOOLEAN):
            left, left_kind = to_number(left), NUMBER
        elif right_kind in (NULL, BOOLEAN):
            right, right_kind = to_number(right), NUMBER
        else:
            return -1, left, right
    return left_kind, left, right


def equals(left: Any, right: Any) -> bool:
    """GitHub's ``==``: loose, strings case-insensitive, NaN unequal, objects by reference."""
    if type(left) is str and type(right) is str:
        return left == right or fold_case(left) == fold_case(right)
    kind, left, right = _coerce(left, right)
    if kind == NUMBER:
        return bool(left == right)
    if kind == STRING:
        return bool(fold_case(left) == fold_case(right))
    if kind == BOOLEAN:
        return bool(left) == bool(right)
    if kind == NULL:
        return True
    if kind in (ARRAY, OBJECT):
        return left is right
    return False


def greater_than(left: Any, right: Any) -> bool:
    """GitHub's ``>``: false whenever the kinds cannot be made the same, or for NaN."""
    kind, left, right = _coerce(left, right)
    if kind == NUMBER:
        return bool(left > right)
    if kind == STRING:
        return _utf16_order(fold_case(left), fold_case(right)) > 0
    if kind == BOOLEAN:
        return bool(left) and not bool(right)
    return False


def less_than(left: Any, right: Any) -> bool:
    """GitHub's ``<``: false whenever the kinds cannot be made the same, or for NaN."""
    kind, left, right = _coerce(left, right)
    if kind == NUMBER:
        return bool(left < right)
    if kind == STRING:
        return _utf16_order(fold_case(left), fold_case(right)) < 0
    if kind == BOOLEAN:
        return not bool(left) and bool(right)
    return False


def get_property(mapping: Mapping[Any, Any], name: str) -> Any:
    """``mapping[name]`` with the name matched case-insensitively; MISSING when absent."""
    value = mapping.get(name, MISSING)
    if value is not MISSING:
        return value
    wanted = fold_case(name)
    for key, candidate in mapping.items():
        if fold_case(key if type(key) is str else to_string(key)) == wanted:
            return candidate
    return MISSING


def index_of(value: Any) -> tuple[str | None, int | None]:
    """What an index value selects: the property name it names and the array position, if any."""
    kind = kind_of(value)
    if kind > STRING:
        return None, None
    as_number = to_number(value)
    position = None
    if not math.isnan(as_number) and 0 <= as_number < math.inf:
        position = math.floor(as_number)
    return to_string(value), position


def access(target: Any, name: str | None, position: int | None, *, star: bool = False) -> Any:
    """``target[index]`` as GitHub evaluates it, for a name, a position or the filter ``*``.

    A missing property, a position out of range or an index into a value that is neither array
    nor object give null; the filter on such a value gives an empty filtered array.
    """
    if type(target) is FilteredArray:
        return _project(target, name, position, star=star)
    kind = kind_of(target)
    if kind == ARRAY:
        if star:
            return FilteredArray(target)
        if position is not None and position < len(target):
            return target[position]
        return None
    if kind == OBJECT and isinstance(target, Mapping):
        if star:
            return FilteredArray(target.values())
        if name is not None:
            found = get_property(target, name)
            return None if found is MISSING else found
        return None
    return FilteredArray() if star else None


def _project(
    items: Iterable[Any], name: str | None, position: int | None, *, star: bool
) -> FilteredArray:
    result = FilteredArray()
    for item in items:
        kind = kind_of(item)
        if kind == OBJECT and isinstance(item, Mapping):
            if star:
                result.extend(item.values())
            elif name is not None:
                found = get_property(item, name)
                if found is not MISSING:
                    result.append(found)
        elif kind == ARRAY:
            if star:
                result.extend(item)
            elif position is not None and position < len(item):
                result.append(item[position])
    return result


def normalize(value: Any) -> Any:
    """A result as the API hands it out: integral floats as ints, filtered arrays as lists."""
    value_type = type(value)
    if value_type is float:
        return number(value)
    if value_type is FilteredArray:
        return list(value)
    return value
