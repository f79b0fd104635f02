"""Tables and the domain rules that go with them: shared modules, and a package for a big domain.

Importing this package imports every module under it (but the migrations), which
registers every table on ``SQLModel.metadata`` for Alembic and the schema test:
a new feature's tables are found without being listed anywhere.
"""

import importlib
import pkgutil

for _module in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
    if not _module.name.startswith(__name__ + ".migrations"):
        importlib.import_module(_module.name)
