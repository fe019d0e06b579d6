"""The base class of errors the user fixes: a missing path, a malformed file, a bad flag or config value.

The zoo's CLIs (tools/_cli.py) print a `UserError` as one line `error: <message>` and exit with status 2;
any other exception is a bug and keeps its traceback. So a `UserError` message must be enough on its
own: it names the file (or flag, or config key) and the field or entry that is wrong.

The error classes of the packages derive from it next to the code that raises them: `ConfigError`
(config.py), `RegistryError` (registry.py), `DatasetError` (data/imagefolder.py), `CocoFormatError`
(data/coco_annotations.py), `TideInputError` (evaluation/tide/errors.py), `ConversionError` (converters).
Each also keeps its builtin base (ValueError, KeyError, FileNotFoundError), so callers that catch the
builtin are unaffected.
"""

from __future__ import annotations


class UserError(Exception):
    """Wrong input from the user (not a bug); the message names the file and the field."""


class PathNotFoundError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist; the message starts with the path."""


class BadValueError(UserError, ValueError):
    """A parameter or flag value outside what the code accepts; the message names the parameter."""
