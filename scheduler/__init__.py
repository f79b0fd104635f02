"""Scheduled jobs: APScheduler running the jobs the feature modules declare (``Module.jobs``).

Jobs only enqueue outbox rows under keys of their own period, so a member's
message and a scheduled push meet only in the database, and a job that runs
twice sends nothing twice. ``jobs`` turns a schedule into a trigger, ``runner`` runs them.
"""
