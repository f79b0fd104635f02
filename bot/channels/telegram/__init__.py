"""The Telegram channel."""

import os

# RetryAfter.retry_after as an int is deprecated (PTB 22.2) and warns on every
# read; opt in to timedelta before any module of this package imports telegram.
os.environ.setdefault("PTB_TIMEDELTA", "true")
