"""Click options made from config fields: each field's help, type, range, choices and default
become its option, so they are written once, beside the field, in config.py."""

import types
import typing
from dataclasses import fields

import click

from mnist_mlops.config_fields import choices_of


class LayerSizes(click.ParamType):
    """A comma-separated list of positive integers, such as 256,128."""

    name = "SIZES"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            sizes = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of whole numbers, e.g. 256,128", param, ctx)
        if not all(size > 0 for size in sizes):
            self.fail(f"{value!r}: every layer size must be a positive number", param, ctx)
        return sizes


class Choices(click.Choice):
    """A choice whose options are read when asked, so model families registered later are offered too."""

    def __init__(self, spec):
        super().__init__(())
        self.spec = spec

    @property
    def choices(self):
        return choices_of(self.spec)

    @choices.setter
    def choices(self, value):
        pass  # click.Choice sets it on construction; ours come from the field


class Unset(click.ParamType):
    """A value of another type, or an empty string (how MLproject passes an unset option) for None."""

    def __init__(self, inner):
        self.inner = click.types.convert_type(inner)
        self.name = self.inner.name

    def convert(self, value, param, ctx):
        return None if value in ("", None) else self.inner.convert(value, param, ctx)

    def get_metavar(self, param, ctx):
        return self.inner.get_metavar(param, ctx)


def falsy_as_none(ctx, param, value):
    """Read 0 (how the command line and MLproject spell an unset number) as not given."""
    return value or None


def click_type(spec, kind: type):
    """The click type of a field: its choices, its range, or its plain type."""
    meta = spec.metadata
    if meta.get("choices") is not None:
        return Choices(spec)
    if kind is tuple:
        return LayerSizes()
    if kind is bool:
        return click.BOOL
    if kind in (int, float) and (meta["low"] is not None or meta["high"] is not None):
        bounds = dict(min=meta["low"], max=meta["high"], min_open=meta["open_low"], max_open=meta["open_high"])
        return (click.IntRange if kind is int else click.FloatRange)(**bounds)
    return kind


def field_type(spec) -> tuple[type, bool]:
    """A field's value type (int for `int | None`, tuple for `tuple[int, ...]`) and whether None is allowed."""
    args = typing.get_args(spec.type) if isinstance(spec.type, types.UnionType) else ()
    kind = next((arg for arg in args if arg is not type(None)), spec.type)
    return typing.get_origin(kind) or kind, type(None) in args


def field_option(spec):
    """The click option of one config field: --name, with the field's help, type, range and default.
    An optional field (None) is unset on the command line as 0 (numbers) or an empty string."""
    kind, optional = field_type(spec)
    meta, name = spec.metadata, f"--{spec.name.replace('_', '-')}"
    settings = dict(help=meta["help"], envvar=meta["envvar"])
    if meta["flag"]:  # --quiet; or --prune/--no-prune when it is on by default
        names = f"{name}/--no-{name[2:]}" if spec.default else name
        return click.option(names, spec.name, is_flag=True, default=spec.default, **settings)
    if optional and kind is int:
        return click.option(name, spec.name, type=click.IntRange(min=0), default=0, callback=falsy_as_none, **settings)
    if optional:
        return click.option(
            name, spec.name, type=Unset(click_type(spec, kind)), default="", show_default=False, **settings
        )
    default = ",".join(map(str, spec.default)) if kind is tuple else spec.default
    return click.option(name, spec.name, type=click_type(spec, kind), default=default, **settings)


def config_options(config_class):
    """Add an option for every field of a job config, in the order of its fields."""

    def decorate(command):
        for spec in reversed(fields(config_class)):
            command = field_option(spec)(command)
        return command

    return decorate
