"""Click options derived from an ekt.toml section, so a flag cannot drift from its field.

`config_options("student")` decorates a command with one option per [student] field: the flag is
the field's option name (`--batch-size`, `--student` for `model`), the type and choices come
from the annotation (Literal -> Choice, bool -> `--x/--no-x`, list -> repeatable), the help from
the description plus the bounds. Every option defaults to None ("keep the ekt.toml value"):
bounds are checked by pydantic when the overrides are merged, so `--n 0` and `n = 0` fail with
the same one-line message. `overrides()` turns the command's keyword arguments back into
{field: value} for the given section.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from core.config import FieldSpec, section_fields

F = TypeVar("F", bound=Callable[..., Any])

_TYPES: dict[type, click.ParamType] = {int: click.INT, float: click.FLOAT, str: click.STRING}


def _help(spec: FieldSpec, *, bounds: bool = True) -> str:
    tail = f"  [{spec.bounds}]" if spec.bounds and bounds else ""
    repeat = " Repeat the flag for several." if spec.kind is list else ""
    return f"{spec.description}{repeat}{tail}"


def _ranged(spec: FieldSpec) -> click.ParamType:
    """The field's bounds checked by click (for commands that pass values on unvalidated)."""
    lo, hi = spec.lower, spec.upper
    kind = click.IntRange if spec.kind is int else click.FloatRange
    return kind(
        min=lo[0] if lo else None, max=hi[0] if hi else None,
        min_open=bool(lo and not lo[1]), max_open=bool(hi and not hi[1]),
    )  # fmt: skip


def field_option(
    spec: FieldSpec, *, ranged: bool = False, help: str | None = None
) -> Callable[[F], F]:
    """One click option for one field (default None: take the field from ekt.toml).

    `ranged`: click checks the bounds (a usage error) instead of leaving them to pydantic."""
    kw: dict[str, Any] = {"default": None, "help": help or _help(spec, bounds=not ranged)}
    if spec.kind is bool:
        decls = [f"{spec.flag}/--no-{spec.flag[2:]}", spec.option]
        return click.option(*decls, **kw)
    decls = [spec.flag, spec.option]
    if spec.choices:
        kw["type"] = click.Choice([c for c in spec.choices if c])
    elif spec.kind is list:
        kw.update(type=_TYPES[spec.item or str], multiple=True)
    elif ranged and spec.kind in (int, float) and (spec.lower or spec.upper):
        kw["type"] = _ranged(spec)
    else:
        kw["type"] = _TYPES[spec.kind]
    if spec.metavar:
        kw["metavar"] = spec.metavar
    return click.option(*decls, **kw)


def config_option(
    section: str,
    name: str,
    *,
    option: str | None = None,
    ranged: bool = False,
    help: str | None = None,
) -> Callable[[F], F]:
    """The option of one field, under another flag name where a command had one before."""
    (spec,) = _selected(section, [name])
    if option is not None:
        spec = dataclasses.replace(spec, option=option)
    return field_option(spec, ranged=ranged, help=help)


def _selected(section: str, only: Iterable[str] | None) -> list[FieldSpec]:
    specs = section_fields(section)
    if only is None:
        return specs
    wanted = set(only)
    unknown = wanted - {s.name for s in specs}
    if unknown:
        raise TypeError(f"[{section}] has no field {sorted(unknown)}")
    return [s for s in specs if s.name in wanted]


def config_options(section: str, *, only: Iterable[str] | None = None) -> Callable[[F], F]:
    """Decorate a command with an option per field of `section` (or of the `only` fields)."""
    specs = _selected(section, only)

    def decorate(fn: F) -> F:
        for spec in reversed(specs):  # click lists options in decoration order, bottom up
            fn = field_option(spec)(fn)
        return fn

    return decorate


def overrides(
    section: str, values: dict[str, Any], *, only: Iterable[str] | None = None
) -> dict[str, Any]:
    """Pop the section's options out of a command's kwargs: {field name: value given}."""
    out: dict[str, Any] = {}
    for spec in _selected(section, only):
        value = values.pop(spec.option, None)
        if value is None or (spec.kind is list and value == ()):
            continue
        out[spec.name] = list(value) if spec.kind is list else value
    return out
