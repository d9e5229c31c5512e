"""Click options made from the config dataclasses' field metadata, so each option's help, type,
choices and default are written once (like TRL's ``HfArgumentParser`` over ``SFTConfig``)."""

from __future__ import annotations

import dataclasses
import functools
import typing
from pathlib import Path

import click

PATH_KINDS = {"dir": dict(file_okay=False), "file": dict(dir_okay=False),
              "existing_file": dict(exists=True, dir_okay=False), "existing_dir": dict(exists=True, file_okay=False)}


def _field(cls, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _base_type(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in (typing.Union, getattr(__import__("types"), "UnionType", None)) \
        and args else hint


def option(cls, name: str, show_default: bool = True, **overrides):
    """A click option for field ``name`` of dataclass ``cls``: ``--name-with-dashes`` (or the
    field's ``cli`` metadata), help from the metadata, the type from the annotation (a list is
    comma-separated), choices, ``--x/--no-x`` for booleans marked ``flag``. Its default is None
    (the library's default applies, shown in the help), so a config file's values are not
    overridden by options that were not given."""
    f = _field(cls, name)
    meta, hint = f.metadata, _base_type(typing.get_type_hints(cls)[name])
    opt = meta.get("cli", "--" + name.replace("_", "-"))
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    help_text = meta.get("help", "")
    if show_default and default is not None and "[default" not in help_text:
        shown = ",".join(default) if isinstance(default, list) else str(default).lower() if isinstance(default, bool) \
            else default
        help_text += f" [default: {shown}]"
    kwargs: dict = {"default": None, "help": help_text}
    if hint is bool:
        decls = [f"{opt}/--no-{opt[2:]}"] if meta.get("flag") else [opt]
        kwargs.update(is_flag=True, default=None if meta.get("flag") else False)
    else:
        decls = [opt]
        if "choices" in meta:
            kwargs["type"] = click.Choice([str(c) for c in meta["choices"]])
        elif meta.get("cli_type") == "batch":
            kwargs["type"] = BatchSize()
        elif hint in (int, float):
            kwargs["type"] = hint
        elif "path" in meta:
            kwargs["type"] = click.Path(**PATH_KINDS[meta["path"]])
        elif typing.get_origin(hint) is list:
            kwargs["callback"] = _split_ints if typing.get_args(hint) == (int,) else _split_list
    kwargs.update(overrides)
    return click.option(*decls, name, **kwargs)


class BatchSize(click.ParamType):
    """A positive number, or ``auto`` (None: the library chooses)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number or 'auto'", param, ctx)


def options(cls, *names: str, **kw):
    """Several fields' options, in the order given."""
    def wrap(f):
        for name in reversed(names):
            f = option(cls, name, **kw)(f)
        return f

    return wrap


def given(values: dict) -> dict:
    """The options that were given (click passes None for the rest)."""
    return {k: v for k, v in values.items() if v is not None}


def _split_list(ctx, param, value):
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise click.BadParameter("give at least one comma-separated value")
    return items


def _split_ints(ctx, param, value):
    items = _split_list(ctx, param, value)
    if items is None:
        return None
    try:
        return [int(v) for v in items]
    except ValueError:
        raise click.BadParameter(f"give comma-separated integers, got {value!r}") from None


split_list = functools.partial(_split_list, None, None)
