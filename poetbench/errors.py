"""Exception types of the library. Only ``cli.py`` turns them into messages and exit codes."""

from __future__ import annotations


class PoetbenchError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class ConfigError(PoetbenchError):
    pass


class CorpusError(PoetbenchError):
    """Bad corpus input; the message names the file, line and field where known."""

    def __init__(self, message: str, path=None, line: int | None = None, field: str | None = None):
        where = ""
        if path is not None:
            where = str(path)
            if line is not None:
                where += f":{line}"
            if field is not None:
                where += f" field {field!r}"
            where += ": "
        super().__init__(where + message)
        self.path, self.line, self.field = path, line, field


class ModelError(PoetbenchError):
    pass


class TrainError(PoetbenchError):
    pass
