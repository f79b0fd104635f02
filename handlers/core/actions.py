"""A cadre's versioned step on a case, as a conversation: the questions, a summary to confirm, then the act.

Cadres handle cases (a suggestion, a hardship application) that a colleague
may be handling at the same moment. The model refuses a step taken on a
version the cadre did not see (:mod:`models.versioned`); this module is the
conversation around that rule, the same for every feature:

1. The cadre opens the case; the view keeps its id and the version shown
   (:func:`view_data`) in the dialog's data.
2. They choose a step. Its form asks its questions and ends in a summary to
   confirm (or a yes/no for a step with nothing to fill in); 取消 goes back to
   the case, where the step was chosen, not to the menu.
3. On confirmation the step is written with the version seen. Done, the cadre
   reads what happened and sees the case again (or the list, once the step
   finished the case). Refused because a colleague acted first, they read the
   refusal and see the case as it now stands, so they never overwrite the
   colleague's work nor decide on what they did not see.

A feature describes its kind of case once (:class:`VersionedActions`) and then
declares each step in a few lines with :meth:`VersionedActions.flow`. This
module knows no feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from handlers.core.context import Context
from handlers.core.dialogs import Confirm, Data, Flow, Step, YesNo
from handlers.core.messages import Reply
from models.errors import DomainError

ID = "id"
"""Form data key of the case's id."""
VERSION = "version"
"""Form data key of the case's version the cadre saw."""

T = TypeVar("T")


@dataclass(frozen=True)
class Seen:
    """The case the cadre opened and its version then: what a versioned step is written against."""

    id: int
    version: int

    @classmethod
    def of(cls, data: Data) -> Seen:
        return cls(int(data[ID]), int(data[VERSION]))


def view_data(case_id: int, version: int) -> Data:
    """The form data a case's view keeps, so the step chosen from it acts on the version shown."""
    return {ID: case_id, VERSION: version}


def stale(data: Data, version: int) -> bool:
    """Whether the case moved on (now at ``version``) since the cadre was shown it."""
    return version != int(data[VERSION])


Show = Callable[[Context, Data, Sequence[Reply]], list[Reply]]
"""Shows a place (the case, the list) after some replies: (context, form data, replies first)."""
Act = Callable[[Context, Data, Seen], T]
"""Writes the step with the version seen; returns the case as written, or raises the model's refusal."""
Said = Callable[[Context, Data, T], str]
"""What the cadre reads once the step is written."""


@dataclass(frozen=True)
class VersionedActions(Generic[T]):
    """How one kind of case is shown around its versioned steps; ``T`` is the case as the model returns it.

    Attributes:
        conflict: the model's refusal when someone acted since the cadre opened the case. The
            model raises it before writing anything, so answering it leaves no half-done step.
        reopen: shows the case as it now stands and lets the cadre choose again (it reads
            :data:`ID` from the data and keeps the version it shows, :func:`view_data`).
        leave: shows where the cadre goes once a step finished the case (the list).
        finished: whether the step just written took the case off the list (closed, merged).
        heading: the case's title line, shown under each summary's heading.
        keep: form data keys of where the case was opened from (the list's page and filters),
            carried through a step's form so the way back returns there.
    """

    conflict: type[DomainError]
    reopen: Show
    leave: Show
    finished: Callable[[T], bool]
    heading: Callable[[Context, Data], str]
    keep: tuple[str, ...] = ()

    def form(self, data: Data) -> Data:
        """What a step's form starts with: where the list was, the case, and the version seen."""
        return {key: data[key] for key in (*self.keep, ID, VERSION) if key in data}

    def start(self, ctx: Context, flow: Flow, data: Data) -> list[Reply]:
        """Open the form of a step chosen on the case's view."""
        return ctx.dialogs.start(ctx, flow, data=self.form(data))

    def back(self, ctx: Context, data: Data) -> list[Reply]:
        """取消 in a step's form goes back to the case, where the cadre chose the step, not to the menu."""
        return self.reopen(ctx, data, ())

    def summary(
        self, heading: str, lines: Callable[[Context, Data], Sequence[str]]
    ) -> Callable[[Context, Data], str]:
        """A confirmation's summary: ``heading`` (a msgid), the case's title line, then ``lines``."""

        def summarise(ctx: Context, data: Data) -> str:
            shown = lines(ctx, data)
            return "\n".join([ctx.t(heading), self.heading(ctx, data), *shown])

        return summarise

    def finish(self, ctx: Context, data: Data, act: Act[T], said: Said[T]) -> list[Reply]:
        """Write the step with the version the cadre saw; if someone acted first, say so and show the case."""
        try:
            case = act(ctx, data, Seen.of(data))
        except self.conflict as error:
            return self.reopen(ctx, data, [Reply(ctx.t.error(error))])
        text = Reply(said(ctx, data, case))
        if self.finished(case):
            return self.leave(ctx, data, [text])
        return self.reopen(ctx, data, [text])

    def flow(
        self,
        name: str,
        *,
        asks: tuple[Step, ...] = (),
        confirm: Confirm | YesNo,
        act: Act[T],
        said: Said[T],
        declined: str | None = None,
    ) -> Flow:
        """The form of one versioned step.

        Args:
            name: the flow's name, unique across the modules.
            asks: the questions, in order.
            confirm: the last look before writing: a :class:`Confirm` with a :meth:`summary`,
                or, for a step with nothing to ask, a :class:`YesNo` ("确定办结…吗？").
            act: writes the step (see :data:`Act`).
            said: what the cadre reads once it is written.
            declined: what a "no" to a :class:`YesNo` confirmation says (a msgid) before the case
                is shown again.
        """
        if isinstance(confirm, YesNo) and declined is None:
            raise ValueError(f"flow {name!r}: a yes/no confirmation needs the words for its no")

        def done(ctx: Context, data: Data) -> list[Reply]:
            if isinstance(confirm, YesNo) and not data[confirm.key]:
                assert declined is not None
                return self.reopen(ctx, data, [Reply(ctx.t(declined))])
            return self.finish(ctx, data, act, said)

        return Flow(name=name, steps=(*asks, confirm), on_done=done, cancel_to=self.back)
