"""Scheduled jobs (monthly reminders, deadline reminders, ranking digests).

The jobs come with the issues that need them; they will only enqueue outbox
rows, so a member's message and a scheduled push meet only in the database.
"""
