"""What the scheduled jobs did: one row per run, for ``jobs list`` and for catching up after start-up.

A row is written when a run starts and completed when it ends, each in a
transaction of its own, so a run that died half-way shows as started and
never finished. The catch-up after start-up asks :func:`ran_since`: a time the
schedule had while no process ran is run once, later; a time some process
already ran is not run again. Either way the pushes are safe — their outbox
keys name the period — this only spares the work and keeps the list honest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from models.base import UTCDateTime, string_enum, utcnow

ERROR_MAX = 200


class RunStatus(StrEnum):
    RUNNING = "running"  # started; a row left so by a process that died stays so
    DONE = "done"
    FAILED = "failed"


class JobRun(SQLModel, table=True):
    """One run of a scheduled job.

    Attributes:
        job: the job's id.
        due_at: the scheduled time the run stands for (a catch-up run's is the time it missed).
        period: what the run covers, as its keys name it: "2026-12" for a monthly job, the day otherwise.
        holder: the process that ran it (host:pid), or "cli" for ``jobs run``.
        queued: how many pushes it queued; None until it finished.
        error: why it failed, first line only.
    """

    __tablename__ = "job_run"
    __table_args__ = (sa.Index("ix_job_run_job_due_at", "job", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime)
    period: str = Field(max_length=16)
    holder: str = Field(max_length=64)
    status: RunStatus = Field(default=RunStatus.RUNNING, sa_type=string_enum(RunStatus, 16))
    queued: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=ERROR_MAX)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def start_run(
    session: Session, *, job: str, due_at: datetime, period: str, holder: str, now: datetime
) -> int:
    """Record that a run started; its id, for :func:`finish_run`."""
    run = JobRun(job=job, due_at=due_at, period=period, holder=holder[:64], started_at=now)
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def finish_run(
    session: Session, run_id: int, *, now: datetime, queued: int | None = None, error: str | None = None
) -> None:
    """Record how a run ended: the pushes it queued, or the error it failed with."""
    first_line = error.strip().splitlines()[0][:ERROR_MAX] if error and error.strip() else None
    session.execute(
        sa.update(JobRun)
        .where(col(JobRun.id) == run_id)
        .values(
            status=RunStatus.FAILED if error is not None else RunStatus.DONE,
            queued=queued,
            error=first_line if error is not None else None,
            finished_at=now,
        )
    )


def ran_since(session: Session, job: str, due_at: datetime) -> bool:
    """Whether a run of ``job`` for ``due_at`` or a later time finished well: no catch-up needed."""
    found = session.exec(
        select(JobRun.id)
        .where(col(JobRun.job) == job, col(JobRun.due_at) >= due_at, col(JobRun.status) == RunStatus.DONE)
        .limit(1)
    ).first()
    return found is not None


def last_runs(session: Session, jobs: Iterable[str]) -> dict[str, JobRun]:
    """Each job's latest run (by start), for the jobs that ran at all."""
    names = list(jobs)
    if not names:
        return {}
    latest = (
        select(col(JobRun.job), sa.func.max(col(JobRun.id)).label("id"))
        .where(col(JobRun.job).in_(names))
        .group_by(col(JobRun.job))
        .subquery()
    )
    rows = session.exec(select(JobRun).join(latest, col(JobRun.id) == latest.c.id)).all()
    return {row.job: row for row in rows}
