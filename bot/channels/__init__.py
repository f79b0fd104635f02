"""Channel adapters: the only code that speaks a chat platform's protocol.

Each adapter does four things: verify, parse into ``Incoming``, dispatch to
the core, render the ``Reply``s its own way.
"""
