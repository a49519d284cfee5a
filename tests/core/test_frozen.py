"""``@frozen`` behaves as ``@dataclass(frozen=True, slots=True)`` does, side by side."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from shipyard.core.frozen import frozen, record


@frozen
class Point:
    """A point."""

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)
    note: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Reference:
    """The same fields, as a standard frozen dataclass."""

    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="", repr=False)
    note: str = field(default="", compare=False)


@frozen
class Hidden:
    """Writes its own repr."""

    value: str

    def __repr__(self) -> str:
        return "Hidden(***)"


@frozen
class Empty:
    """No fields."""


def test_init_defaults_and_factories_as_dataclass() -> None:
    first, second = Point(1), Point(1)
    assert (first.x, first.y, first.tags, first.secret) == (1, 0, [], "")
    assert first.tags is not second.tags
    assert Point(1, 2, ["a"], "s", "n").tags == ["a"]
    assert Point(x=3, note="n").note == "n"
    with pytest.raises(TypeError, match=r"Point.__init__\(\) missing 1 required"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]


def test_repr_eq_and_hash_match_the_standard_dataclass() -> None:
    ours, theirs = Point(1, 2, ["a"], "hunter2", "n"), Reference(1, 2, ["a"], "hunter2", "n")
    assert repr(ours).replace("Point", "Reference") == repr(theirs)
    assert "hunter2" not in repr(ours)
    assert Point(1, 2) == Point(1, 2, note="other")  # compare=False is left out
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != Reference(1)
    assert hash(Point(1, 2, (), "s")) == hash(Point(1, 2, (), "s", "x"))  # type: ignore[arg-type]
    assert {Point(1, 2, (), "s"): 1}[Point(1, 2, (), "s")] == 1  # type: ignore[arg-type]
    assert repr(Hidden("value")) == "Hidden(***)"
    assert Empty() == Empty() and hash(Empty()) == hash(Empty()) and repr(Empty()) == "Empty()"


def test_instances_are_immutable_and_slotted() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'x'"):
        del point.x  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.other = 1  # type: ignore[attr-defined]
    assert not hasattr(point, "__dict__")
    assert point.x == 1


def test_still_a_dataclass_to_the_standard_library() -> None:
    point = Point(1, 2, ["a"])
    assert dataclasses.is_dataclass(point)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "tags", "secret", "note"]
    assert dataclasses.replace(point, y=5) == Point(1, 5, ["a"])
    assert dataclasses.asdict(point)["tags"] == ["a"]
    assert Point.__match_args__ == ("x", "y", "tags", "secret", "note")
    match point:
        case Point(1, y):
            assert y == 2
        case _:
            pytest.fail("positional pattern did not match")


def test_copies_and_pickles() -> None:
    point = Point(1, 2, ["a"], "s", "n")
    assert copy.copy(point) == point
    deep = copy.deepcopy(point)
    assert deep == point and deep.tags is not point.tags
    assert pickle.loads(pickle.dumps(point)) == point


def test_refuses_what_it_does_not_build() -> None:
    with pytest.raises(TypeError, match="no __post_init__"):

        @frozen
        class WithPost:
            x: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="fields are positional"):

        @frozen
        class NoInit:
            x: int = field(init=False, default=0)


def test_fields_are_what_dataclass_makes_of_them() -> None:
    ours, theirs = dataclasses.fields(Point), dataclasses.fields(Reference)
    described = [
        (f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash, f.kw_only)
        for f in ours
    ]
    expected = [
        (f.name, f.type, f.default, f.default_factory, f.init, f.repr, f.compare, f.hash, f.kw_only)
        for f in theirs
    ]
    assert described == expected
    assert Point.__slots__ == Reference.__slots__ == ("x", "y", "tags", "secret", "note")
    assert "x" not in vars(Point) or not isinstance(vars(Point)["x"], int)  # a slot, not a default


def test_a_subclass_adds_its_fields_after_its_bases() -> None:
    @frozen
    class Base:
        a: int
        b: str = "b"

    @frozen
    class Child(Base):
        c: str = "c"

    child = Child(1)
    assert [f.name for f in dataclasses.fields(child)] == ["a", "b", "c"]
    assert (child.a, child.b, child.c) == (1, "b", "c")
    assert Child.__slots__ == ("c",)
    assert child == Child(1) and child != Base(1)
    assert not hasattr(child, "__dict__")


def test_class_variables_are_not_fields() -> None:
    from typing import ClassVar

    @frozen
    class Counted:
        limit: ClassVar[int] = 3
        value: int

    assert [f.name for f in dataclasses.fields(Counted)] == ["value"]
    assert Counted.limit == 3 and Counted(1).value == 1


def test_mistakes_are_refused_as_dataclass_refuses_them() -> None:
    with pytest.raises(ValueError, match="mutable default <class 'list'> for field items"):

        @frozen
        class Mutable:
            items: list[str] = []  # noqa: RUF012 - the mistake under test

    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @frozen
        class Order:
            a: int = 0
            b: int  # a field without a default after one with


def test_classes_of_one_shape_share_code_but_not_names_or_defaults() -> None:
    @frozen
    class Left:
        a: int
        b: str = "left"
        c: list[int] = field(default_factory=list)

    @frozen
    class Right:
        x: str
        y: str = "right"
        z: dict[str, int] = field(default_factory=dict)

    assert Left.__init__.__code__.co_code == Right.__init__.__code__.co_code
    assert (Left(1).b, Left(1).c, Right("r").y, Right("r").z) == ("left", [], "right", {})
    assert Left(1, c=[2]).c == [2] and Right(x="x", y="why").y == "why"
    with pytest.raises(TypeError, match=r"Right.__init__\(\) missing 1 required .* 'x'"):
        Right()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'a'"):
        Right(a=1)  # type: ignore[call-arg]


@record
class Tally:
    """A mutable record."""

    name: str
    count: int = 0
    seen: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@dataclass
class TallyReference:
    """The same fields, as a standard dataclass."""

    name: str
    count: int = 0
    seen: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


def test_a_record_is_what_dataclass_makes_of_a_class() -> None:
    ours, theirs = Tally("a", 1, ["x"], "n"), TallyReference("a", 1, ["x"], "n")
    assert repr(ours).replace("Tally", "TallyReference") == repr(theirs)
    ours.count += 1
    ours.extra = "allowed"  # type: ignore[attr-defined]  # no slots, as a plain dataclass
    assert ours.count == 2 and ours == Tally("a", 2, ["x"], "other note")
    assert Tally("a").seen is not Tally("a").seen
    assert Tally.__hash__ is None and TallyReference.__hash__ is None
    assert [f.name for f in dataclasses.fields(Tally)] == ["name", "count", "seen", "note"]
    assert dataclasses.asdict(Tally("b")) == dataclasses.asdict(TallyReference("b"))
    assert dataclasses.replace(Tally("b"), count=3).count == 3
    assert Tally.count == 0 and "seen" not in vars(Tally)  # defaults as class attributes
    assert pickle.loads(pickle.dumps(ours)) == ours
