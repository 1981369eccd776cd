"""A strict value encoding between the candidate's process and the engine. Stdlib only.

The child encodes what the program returned as plain tagged JSON (numbers, strings, None, bool,
lists, tuples, sets, dicts, bytes, Fraction, Decimal); anything else travels as its type name.
The engine decodes it into fresh builtin objects, so a comparison there runs on data the program
cannot steer: no `__eq__`, `__repr__` or `__float__` of the candidate's is ever called outside
its own process. The encoder runs inside the candidate (it may be subverted there: whatever it
sends is simply the program's answer); the decoder is the trusted half and rejects anything
outside the grammar.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

MAX_ITEMS = 100_000
MAX_DEPTH = 64
MAX_STR = 1 << 20


class Opaque:
    """A value that was not plain data (a generator, a class instance): equal to nothing."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def encode(value: Any) -> Any:
    """Child side: the value as tagged JSON; a base type's own methods read subclasses (a
    namedtuple is its tuple, an IntEnum its int), never their overrides."""
    budget = [MAX_ITEMS]
    return _enc(value, budget, 0)


def _enc(v: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise OverflowError("value too large to report")
    if v is None or v is True or v is False:
        return v
    t = type(v)
    if isinstance(v, bool):
        return bool.__bool__(v)  # pragma: no cover  (bool has no subclasses)
    if isinstance(v, int):
        return int.__int__(v) if t is not int else v
    if isinstance(v, float):
        x = float.__float__(v)
        return x if math.isfinite(x) else {"F": repr(x)}
    if isinstance(v, str):
        return str.__str__(v)
    if t is Fraction:
        return {"q": [_enc(v.numerator, budget, depth + 1), _enc(v.denominator, budget, depth + 1)]}
    if t is Decimal:
        return {"D": Decimal.__str__(v)}
    if isinstance(v, complex):
        return {"c": [_enc(v.real, budget, depth + 1), _enc(v.imag, budget, depth + 1)]}
    if isinstance(v, bytes | bytearray):
        return {"b": bytes(v).hex()}
    if isinstance(v, tuple):
        return {"t": [_enc(x, budget, depth + 1) for x in tuple.__iter__(v)]}
    if isinstance(v, list):
        return {"l": [_enc(x, budget, depth + 1) for x in list.__iter__(v)]}
    if isinstance(v, set | frozenset):
        it = set.__iter__(v) if isinstance(v, set) else frozenset.__iter__(v)
        return {"s": [_enc(x, budget, depth + 1) for x in it]}
    if isinstance(v, dict):
        return {
            "d": [[_enc(k, budget, depth + 1), _enc(x, budget, depth + 1)]
                  for k, x in dict.items(v)]
        }  # fmt: skip
    try:
        name = t.__name__
    except BaseException:
        name = "object"
    return {"?": name if isinstance(name, str) else "object"}


class DecodeError(ValueError):
    pass


def decode(data: Any) -> Any:
    """Engine side: rebuild plain builtin values; raise DecodeError outside the grammar."""
    budget = [MAX_ITEMS]
    return _dec(data, budget, 0)


def _dec(d: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise DecodeError("value too large")
    t = type(d)
    if d is None or t is bool or t is int:
        return d
    if t is float:
        return d
    if t is str:
        if len(d) > MAX_STR:
            raise DecodeError("string too long")
        return d
    if t is not dict or len(d) != 1:
        raise DecodeError(f"not an encoded value: {type(d).__name__}")
    ((tag, body),) = d.items()
    if tag == "F":
        if body not in ("nan", "inf", "-inf"):
            raise DecodeError("bad float")
        return float(body)
    if tag in ("l", "t", "s"):
        if type(body) is not list:
            raise DecodeError("bad sequence")
        items = [_dec(x, budget, depth + 1) for x in body]
        if tag == "l":
            return items
        if tag == "t":
            return tuple(items)
        try:
            return set(items)
        except TypeError:
            raise DecodeError("unhashable set member") from None
    if tag == "d":
        if type(body) is not list:
            raise DecodeError("bad dict")
        out: dict[Any, Any] = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise DecodeError("bad dict item")
            try:
                out[_dec(pair[0], budget, depth + 1)] = _dec(pair[1], budget, depth + 1)
            except TypeError:
                raise DecodeError("unhashable dict key") from None
        return out
    if tag == "q":
        if type(body) is not list or len(body) != 2 or not all(type(x) is int for x in body):
            raise DecodeError("bad fraction")
        if body[1] == 0:
            raise DecodeError("bad fraction")
        return Fraction(body[0], body[1])
    if tag == "D":
        if type(body) is not str or len(body) > 1000:
            raise DecodeError("bad decimal")
        try:
            return Decimal(body)
        except InvalidOperation:
            raise DecodeError("bad decimal") from None
    if tag == "c":
        if type(body) is not list or len(body) != 2:
            raise DecodeError("bad complex")
        re, im = (_dec(x, budget, depth + 1) for x in body)
        if type(re) is not float or type(im) is not float:
            raise DecodeError("bad complex")
        return complex(re, im)
    if tag == "b":
        if type(body) is not str:
            raise DecodeError("bad bytes")
        try:
            return bytes.fromhex(body)
        except ValueError:
            raise DecodeError("bad bytes") from None
    if tag == "?":
        if type(body) is not str or len(body) > 200:
            raise DecodeError("bad type name")
        return Opaque(body)
    raise DecodeError(f"unknown tag {tag!r}")


def to_number(value: Any) -> float | None:
    """A decoded value as a number when it plainly is one ("1,000", "$18", 18.0, Fraction)."""
    if isinstance(value, bool | Opaque):
        return None
    if isinstance(value, int | float | Fraction | Decimal):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        text = value.strip().replace(",", "").lstrip("$").rstrip("%").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def show(value: Any, n: int = 200) -> str:
    """repr of a decoded (plain) value, cut: the detail is written from this, never from the
    candidate's own repr."""
    try:
        text = repr(value)
    except RecursionError:
        text = "<deeply nested value>"
    return text if len(text) <= n else text[: n - 1] + "…"
