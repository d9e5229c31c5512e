"""Exception types of the library, all of them. Only the CLI turns them into messages and exit codes.

Each names where the problem is when it knows: ``Error(message, path, line, field)`` reads
``path:line field 'name': message``.
"""

from __future__ import annotations


class PoetbenchError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    def __init__(self, message: str, path=None, line: int | None = None, field: str | None = None):
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
            if field is not None:
                where += f" field {field!r}"
            where += ": "
        elif field is not None:
            where = f"field {field!r}: "
        super().__init__(where + message)
        self.path, self.line, self.field = path, line, field


class InputError(PoetbenchError):
    """A file or stream that is not what it should be (run files, manifests, standard input)."""


class ConfigError(PoetbenchError):
    """A configuration value, config file, prompts file or option that is not allowed."""


class CorpusError(PoetbenchError):
    """Bad corpus input; the message names the file, line and field where known."""


class ModelError(PoetbenchError):
    """A base model, tokenizer or adapter that cannot be loaded or used."""


class TrainError(PoetbenchError):
    pass


class GenerateError(PoetbenchError):
    pass


class ClassifierError(PoetbenchError):
    pass


class ReportError(PoetbenchError):
    pass


class BusyError(PoetbenchError):
    """Another poetbench process is writing the same folder."""


class RatingsError(PoetbenchError):
    """A ratings database (``poetbench rate``) that cannot be used, or a bad rating."""
