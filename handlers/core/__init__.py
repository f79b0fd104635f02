"""The conversation engine, which knows no feature: messages, i18n, context, dialogs, router, menu, pushes.

Features build on it and declare themselves in a :class:`handlers.core.module.Module`.
"""
