"""Config fields that describe themselves: each field's command-line help and what it accepts
(choices, or a range), and the check every config runs on construction."""

from collections.abc import Callable
from dataclasses import Field, field, fields
from typing import Any

from mnist_mlops.errors import MnistMlopsError


def option(
    default,
    help: str,
    choices: tuple | Callable[[], tuple] | None = None,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
    flag: bool = False,
    envvar: str | None = None,
) -> Any:
    """A config field with its command-line help and what it accepts: choices (or a function that
    lists them when asked, for model families registered later), or a range from low to high. Typed
    as dataclasses.field is, as its default's type (Any), so `seed: int = option(42, ...)` checks."""
    meta = dict(help=help, choices=choices, low=low, high=high, open_low=open_low, open_high=open_high)
    return field(default=default, metadata={**meta, "flag": flag, "envvar": envvar})


def choices_of(spec: Field) -> tuple | None:
    """The choices a field accepts now, or None when it takes any value of its type."""
    choices = spec.metadata.get("choices")
    return choices() if callable(choices) else choices


def range_text(spec: Field) -> str:
    """A field's range as click writes it, e.g. 0<x<1 or x>=1."""
    meta = spec.metadata
    low = "" if meta["low"] is None else f"{meta['low']}{'<' if meta['open_low'] else '<='}"
    high = "" if meta["high"] is None else f"{'<' if meta['open_high'] else '<='}{meta['high']}"
    if low and high:
        return f"{low}x{high}"
    return f"x{'>' if meta['open_low'] else '>='}{meta['low']}" if low else f"x{high}"


def in_range(value: float, spec: Field) -> bool:
    """Whether value keeps a field's range."""
    meta = spec.metadata
    above = meta["low"] is None or (value > meta["low"] if meta["open_low"] else value >= meta["low"])
    below = meta["high"] is None or (value < meta["high"] if meta["open_high"] else value <= meta["high"])
    return above and below


def check_fields(config) -> None:
    """Raise a one-line error naming the first field that is not one of its choices or out of its range."""
    for spec in fields(config):
        value, name = getattr(config, spec.name), f"--{spec.name.replace('_', '-')}"
        if value is None or not spec.metadata:
            continue
        choices = choices_of(spec)
        if choices is not None and value not in choices:
            raise MnistMlopsError(f"{name} {value!r}: choose one of {', '.join(map(str, choices))}")
        values = value if isinstance(value, tuple) else (value,)
        if any(not isinstance(v, bool) and isinstance(v, int | float) and not in_range(v, spec) for v in values):
            raise MnistMlopsError(f"{name} {value}: not in the range {range_text(spec)}")
