"""Which reminders a member has turned off.

Reminders are a courtesy, not an obligation: a member who does not want the
monthly call for suggestions may say so in 我的信息, and the job that sends it
leaves them out. A row here means "off"; no row means the default, on. Each
feature names its reminders by a topic ("collect", "dues") and says whether a
member may turn it off at all (the union may insist on dues reminders).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import Select
from sqlmodel import Field, Session, SQLModel, col, delete, select

from models.base import UTCDateTime, utcnow
from models.members import Member


class ReminderOptOut(SQLModel, table=True):
    """One member's "no more of these" for one reminder topic."""

    __tablename__ = "reminder_opt_out"
    __table_args__ = (UniqueConstraint("member_id", "topic", name="uq_reminder_opt_out_member_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    topic: str = Field(max_length=40, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def turn_off_reminder(session: Session, *, actor: Member, topic: str) -> None:
    """Stop ``topic``'s reminders for the acting member; turning off twice changes nothing."""
    table = ReminderOptOut.__table__  # type: ignore[attr-defined]
    values = {"member_id": actor.id, "topic": topic, "at": utcnow()}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(table).values(**values).on_conflict_do_nothing(index_elements=["member_id", "topic"])
    )


def turn_on_reminder(session: Session, *, actor: Member, topic: str) -> None:
    """Send ``topic``'s reminders to the acting member again."""
    session.execute(
        delete(ReminderOptOut).where(
            col(ReminderOptOut.member_id) == actor.id, col(ReminderOptOut.topic) == topic
        )
    )


def reminders_off(session: Session, member_id: int) -> frozenset[str]:
    """The topics ``member_id`` has turned off."""
    rows = session.exec(select(ReminderOptOut.topic).where(ReminderOptOut.member_id == member_id))
    return frozenset(rows)


def members_with_reminder_off(topic: str) -> Select[tuple[int]]:
    """The ids of members who turned ``topic`` off, as a subquery a job's recipient query excludes."""
    return select(ReminderOptOut.member_id).where(col(ReminderOptOut.topic) == topic)  # type: ignore[return-value]


def count_reminder_off(session: Session, topic: str, member_ids: Select[tuple[int]] | None = None) -> int:
    """How many members turned ``topic`` off (among ``member_ids`` when given): what cadres are shown."""
    query = select(func.count()).select_from(ReminderOptOut).where(col(ReminderOptOut.topic) == topic)
    if member_ids is not None:
        query = query.where(col(ReminderOptOut.member_id).in_(member_ids))
    return int(session.exec(query).one())
