"""Conversations: ``core/`` (messages, router, dialog engine, shared steps), then one package per feature.

Each feature package declares everything it brings in one ``Module``
(handlers.core.module); ``handlers.modules`` lists the modules the bot runs.
Nothing here knows which chat platform a message came from.
"""
