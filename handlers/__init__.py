"""Conversations: the neutral message model, the router, the dialog engine and one module per feature.

Nothing here knows which chat platform a message came from.
"""
