"""The modules this bot runs: the one list of features, put together and checked once at import.

The core's own module (menu and help) comes first. Adding a feature: write its
package with a ``MODULE`` (docs/ARCHITECTURE.md, "Adding a feature"), then name
it here.
"""

from handlers import account, activities, notices, suggestions
from handlers.core import menu
from handlers.core.module import Module, Registry, build_registry
from handlers.core.router import CANCEL_WORDS

MODULES: tuple[Module, ...] = (
    menu.MODULE,
    account.MODULE,
    suggestions.MODULE,
    notices.MODULE,
    activities.MODULE,
)


def registry(*extra: Module) -> Registry:
    """The registry of :data:`MODULES`, and of ``extra`` ones after them (tests add a throwaway one)."""
    return build_registry((*MODULES, *extra), cancel_words=CANCEL_WORDS)


REGISTRY = registry()
