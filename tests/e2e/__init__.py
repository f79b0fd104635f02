"""End-to-end tests: the real python-telegram-bot against a stand-in Bot API on 127.0.0.1."""
