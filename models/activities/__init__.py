"""Activities (活动): what a cadre organises for their units, and who signs up.

"月月有比赛、人人都参与": a cadre with the activities permission sets out a
contest, a lecture or an outing — when, where, until when members may sign up,
how many places — for units of their subtree. Members of those units see it
while sign-up is open, sign up and may change their mind until the deadline;
the cadre sees who comes. Cancelling an activity tells everyone signed up,
through the outbox, in the same transaction.

A sign-up is one row per member and activity, whatever happens to it: its
status says where it stands (signed up, cancelled), so a member who cancels and
comes back keeps one row, and statuses still to come (waitlisted, drawn by
lottery, placed in a batch) are more values of the same column.

Places are counted under a lock on the activity's row (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers
anyway), so two members taking the last place at the same moment cannot both
have it.

The package, by what each module holds:

* :mod:`~models.activities.tables`: the tables, statuses, limits and transitions;
* :mod:`~models.activities.organise`: setting out, the cadre's view and list, calling off;
* :mod:`~models.activities.signups`: what is open to a member, signing up, the waitlist, cancelling.
"""

from models.activities.organise import (
    REMOVE_REASON_MAX,
    activities_managed_by,
    activity_scope,
    activity_units,
    cancel_activity,
    cancelled_key,
    check_activity,
    check_cancel_reason,
    check_capacity,
    check_deadline,
    check_end,
    check_question,
    check_start,
    check_units,
    create_activity,
    managed_activity,
    remove_signup,
    signed_up_members,
    signups_of,
    split_choices,
    units_in_scope,
)
from models.activities.signups import (
    answer_of,
    attended,
    cancel_signup,
    check_answer,
    is_signed_up,
    member_activity,
    open_activities_for,
    promoted_key,
    sign_up,
    signup_counts,
    signups_for,
    waitlist_counts,
    waitlist_position,
    waitlist_positions,
)
from models.activities.tables import (
    ACTIVITY_TRANSITIONS,
    ANNOUNCED_TOPIC,
    ANSWER_MAX,
    CANCEL_REASON_MAX,
    CANCELLED_TOPIC,
    CAPACITY_MAX,
    CHANGED_TOPIC,
    DESCRIPTION_MAX,
    KIND_LABELS,
    PLACE_MAX,
    PROMOTED_TOPIC,
    QUESTION_MAX,
    REMINDER_TOPIC,
    REMOVED_TOPIC,
    SIGNUP_TRANSITIONS,
    TITLE_MAX,
    Activity,
    ActivityDraft,
    ActivityKind,
    ActivityPolicy,
    ActivitySignup,
    ActivityStatus,
    ActivityUnit,
    Attendee,
    SignupOutcome,
    SignupStatus,
    choices_of,
    locked_activity,
    transition,
    transition_signup,
)

__all__ = [
    "ACTIVITY_TRANSITIONS",
    "ANNOUNCED_TOPIC",
    "ANSWER_MAX",
    "CANCELLED_TOPIC",
    "CANCEL_REASON_MAX",
    "CAPACITY_MAX",
    "CHANGED_TOPIC",
    "DESCRIPTION_MAX",
    "KIND_LABELS",
    "PLACE_MAX",
    "PROMOTED_TOPIC",
    "QUESTION_MAX",
    "REMINDER_TOPIC",
    "REMOVED_TOPIC",
    "REMOVE_REASON_MAX",
    "SIGNUP_TRANSITIONS",
    "TITLE_MAX",
    "Activity",
    "ActivityDraft",
    "ActivityKind",
    "ActivityPolicy",
    "ActivitySignup",
    "ActivityStatus",
    "ActivityUnit",
    "Attendee",
    "SignupOutcome",
    "SignupStatus",
    "activities_managed_by",
    "activity_scope",
    "activity_units",
    "answer_of",
    "attended",
    "cancel_activity",
    "cancel_signup",
    "cancelled_key",
    "check_activity",
    "check_answer",
    "check_cancel_reason",
    "check_capacity",
    "check_deadline",
    "check_end",
    "check_question",
    "check_start",
    "check_units",
    "choices_of",
    "create_activity",
    "is_signed_up",
    "locked_activity",
    "managed_activity",
    "member_activity",
    "open_activities_for",
    "promoted_key",
    "remove_signup",
    "sign_up",
    "signed_up_members",
    "signup_counts",
    "signups_for",
    "signups_of",
    "split_choices",
    "transition",
    "transition_signup",
    "units_in_scope",
    "waitlist_counts",
    "waitlist_position",
    "waitlist_positions",
]
