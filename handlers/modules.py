"""The modules this bot runs: the one list of features, put together and checked once at import.

The core's own module (menu and help) comes first. Adding a feature: write its
package with a ``MODULE`` (a :class:`handlers.core.module.Module`: its features,
flows, push renderers, jobs, settings, menu slots, commands and demo examples),
then name it here. Where it shows in the menus is set by its ranks, not by its
place in this list; the place decides the order the demo union is filled in.
"""

from handlers import account, activities, dues, hardship, notices, rankings, suggestions
from handlers.core import menu
from handlers.core.module import Module, Registry, build_registry
from handlers.core.router import CANCEL_WORDS

MODULES: tuple[Module, ...] = (
    menu.MODULE,
    account.MODULE,
    suggestions.MODULE,
    notices.MODULE,
    activities.MODULE,
    hardship.MODULE,
    dues.MODULE,
    rankings.MODULE,
)


def registry(*extra: Module) -> Registry:
    """The registry of :data:`MODULES`, and of ``extra`` ones after them (tests add a throwaway one)."""
    return build_registry((*MODULES, *extra), cancel_words=CANCEL_WORDS)


REGISTRY = registry()
