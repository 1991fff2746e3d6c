"""One exception tree. The CLI catches `CrosswalkError` and prints its message.

Callers can catch at the level they care about: `InputError` for anything wrong
with a document the user gave us, `ConfigError` for settings, `StoreError` for
the SQLite store, `OutputError` for the output folder, `ProviderError` for the
API. Exit codes (README, "Safety"): 0 ok, 2 input/settings/output, 3 store,
4 provider, 5 items in error, 130 interrupted (143 on SIGTERM).
"""

from __future__ import annotations


class CrosswalkError(Exception):
    """Base of every error crosswalk raises on purpose; `exit_code` is what the CLI returns."""

    exit_code = 1


class InputError(CrosswalkError):
    """A user-supplied file is missing, unreadable or malformed.

    The message names the file and, where known, the record or page.
    """

    exit_code = 2

    def __init__(self, path: object, problem: str, *, item: str | None = None):
        self.path = str(path)
        self.item = item
        self.problem = problem
        where = f"{self.path}: {item}: " if item else f"{self.path}: "
        super().__init__(where + problem)


class UnsupportedFormatError(InputError):
    """The file exists but is not a format crosswalk can import (yet)."""


class ConfigError(CrosswalkError):
    """A setting is invalid (bad value, unknown key, unreadable crosswalk.toml)."""

    exit_code = 2


class StoreError(CrosswalkError):
    """The SQLite store could not be opened or migrated."""

    exit_code = 3


class OutputError(CrosswalkError):
    """The output folder cannot be used: not ours, not a folder, holds an input, locked, unwritable."""

    exit_code = 2


class Interrupted(CrosswalkError):
    """Ctrl-C (exit 130) or SIGTERM (exit 143): finished work is kept in the store."""

    def __init__(self, signal_name: str = "SIGINT"):
        self.signal_name = signal_name
        self.exit_code = 143 if signal_name == "SIGTERM" else 130
        super().__init__(f"interrupted ({signal_name}); finished work is kept in the store, the same command resumes")


class ProviderError(CrosswalkError):
    """The LLM / embeddings provider refused or failed; work finished so far is kept in the store."""

    exit_code = 4


class AuthenticationError(ProviderError):
    """401/403: the API key is missing, wrong or not allowed (the key itself is never printed)."""


class ModelNotFoundError(ProviderError):
    """404: the endpoint does not serve this model."""


class ContextTooLongError(ProviderError):
    """400: the request does not fit the model's context window."""


class ProviderUnavailableError(ProviderError):
    """Retries exhausted: the provider kept failing (5xx, timeouts, resets, 429s)."""


class ProviderUnreachableError(ProviderError):
    """Nothing answers at the base URL (connection refused, unknown host): the run stops early."""


class ItemsFailedError(CrosswalkError):
    """The run finished and wrote its outputs, but some items ended in `error` (exit 5)."""

    exit_code = 5


class ResponseFormatError(ProviderError):
    """The model's reply did not match the JSON schema, even after the repair retry."""
