"""The state behind /api/items: an in-memory list of items, and validation of new ones.

State lives only as long as the process: each replica has its own list, which is the point of an
example that shows which instance answered. No I/O here.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

MAX_NAME_LENGTH = 100
MAX_QUANTITY = 1_000_000
MAX_ITEMS = 10_000
_FIELDS = ("name", "quantity")


class InvalidItem(ValueError):
    """A request body that does not describe an item; the message says what is wrong."""


class StoreFull(RuntimeError):
    """The store holds MAX_ITEMS items already: a bound so a load test cannot exhaust memory."""


@dataclasses.dataclass(frozen=True)
class NewItem:
    """A validated request to add an item."""

    name: str
    quantity: int = 1


@dataclasses.dataclass(frozen=True)
class Item:
    """An item in the store."""

    id: int
    name: str
    quantity: int

    def to_json(self) -> dict[str, Any]:
        """The item as the API shows it."""
        return dataclasses.asdict(self)


def parse_new_item(body: bytes) -> NewItem:
    """Validate a POST body: a JSON object with a ``name`` and an optional ``quantity``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidItem("body must be UTF-8 encoded JSON") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidItem(f"body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except (ValueError, RecursionError):
        # Integers longer than Python's digit limit, or nesting deeper than the stack.
        raise InvalidItem("body is not JSON this API can read") from None
    if not isinstance(document, dict):
        raise InvalidItem('body must be a JSON object, such as {"name": "apple"}')
    unknown = sorted(set(document) - set(_FIELDS))
    if unknown:
        raise InvalidItem(f"unknown field {unknown[0]!r}; fields are 'name' and 'quantity'")
    return NewItem(name=_name(document.get("name")), quantity=_quantity(document))


def _name(value: object) -> str:
    if value is None:
        raise InvalidItem("field 'name' is required")
    if not isinstance(value, str):
        raise InvalidItem("field 'name' must be a string")
    name = value.strip()
    if not name:
        raise InvalidItem("field 'name' must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidItem(f"field 'name' must be at most {MAX_NAME_LENGTH} characters")
    return name


def _quantity(document: dict[str, Any]) -> int:
    value = document.get("quantity", 1)
    # bool is an int in Python, but `true` is not a quantity.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidItem("field 'quantity' must be a whole number")
    if not 0 <= value <= MAX_QUANTITY:
        raise InvalidItem(f"field 'quantity' must be from 0 to {MAX_QUANTITY}")
    return value


class ItemStore:
    """Items in the order they were added, with ids from 1; safe to use from many threads."""

    def __init__(self, capacity: int = MAX_ITEMS) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._items: list[Item] = []

    def add(self, new_item: NewItem) -> Item:
        """Store a new item and return it with its id; StoreFull when at capacity."""
        with self._lock:
            if len(self._items) >= self._capacity:
                raise StoreFull(f"the store is full ({self._capacity} items)")
            item = Item(id=len(self._items) + 1, name=new_item.name, quantity=new_item.quantity)
            self._items.append(item)
            return item

    def all(self) -> list[Item]:
        """Every item, oldest first."""
        with self._lock:
            return list(self._items)

    def get(self, item_id: int) -> Item | None:
        """The item with this id, or None."""
        with self._lock:
            if 1 <= item_id <= len(self._items):
                return self._items[item_id - 1]
            return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
