"""Services the union still runs in person: what a member asks for them finds whom to ask.

Members type 困难补助 or 会费 before the bot offers those services. Rather than
"not understood", they are told the service is not online yet and whom to contact:
the chair above them on the roster. When a feature brings one of these services,
its entry here goes (the registry refuses the same word twice, so it must).
"""

from handlers.core.module import Module
from handlers.offline.services import SERVICES

MODULE = Module(name="offline", features=SERVICES)
