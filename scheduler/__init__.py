"""Scheduled jobs: the "三及时" deadline reminders now, monthly reminders and digests later.

Jobs only enqueue outbox rows under keys of their own period, so a member's
message and a scheduled push meet only in the database, and a job that runs
twice sends nothing twice. ``jobs`` lists them, ``runner`` runs them.
"""
