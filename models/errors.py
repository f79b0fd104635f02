"""Domain errors: a stable code for logs and tests, a sentence for the member.

A rule broken in models/ raises one of these; the router turns it into a normal,
translated reply. The message is a msgid (marked with ``N_``) plus named
parameters, so models never format user text in any particular language.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for translation without translating it here."""
    return message


class Label(str):
    """A parameter that is itself a msgid (a status, an award), translated with the sentence around it.

    Member data in parameters (names, titles) must not be looked up in the
    catalogue, so only parameters wrapped in this are.
    """

    __slots__ = ()


class DomainError(Exception):
    """A rule of the domain refused an action.

    Attributes:
        code: stable identifier, for logs and tests (``"bind.cooldown"``).
        msgid: the user-facing sentence, untranslated, with ``{named}`` fields.
        params: values for the named fields.
    """

    def __init__(self, code: str, msgid: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.msgid = msgid
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r})"


class NotFound(DomainError):
    """The thing asked for does not exist (or the actor may not know it does)."""


class PermissionDenied(DomainError):
    """The actor lacks the permission, or the target is outside their subtree."""


class InvalidInput(DomainError):
    """A value the member or an admin gave does not fit the rule for it."""
