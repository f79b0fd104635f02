"""Suggestions (合理化建议, 金点子): from a member's idea to a decision, an answer and an award.

The rules unions hold themselves to live here, so no handler can skip them:

* "五有": every suggestion has a measure, a registration, a classification, a
  handling opinion and a reply to the proposer. A suggestion is closed only
  when it has an opinion and a reply, and a rejection must give its reason.
* "三及时": each stage has a deadline in working days (register, decide, start
  implementing); :attr:`Suggestion.due_on` holds the current one, set whenever
  the stage changes, so the deadline job and the overdue-first queue read one
  indexed column.
* Anonymous suggestions (匿名): cadres handle them without ever learning who
  wrote them — :class:`CadreView` has no proposer for them — and the answer
  still reaches the proposer, who may reveal their name later.
* A cadre acts only within their subtree (``REVIEW_SUGGESTIONS``); a member
  acts only on their own suggestions, and may support others'.
* Two cadres acting on one suggestion at once cannot both win: every action
  names the version the cadre saw and bumps it with a guarded ``UPDATE``
  (optimistic locking, :mod:`models.versioned`), so the second is refused and
  sees the new state.

Every status change, opinion and reply is an event in the suggestion's history
and a push to the proposer, queued in the same transaction.

The package, by what each module holds:

* :mod:`~models.suggestions.tables`: the tables, statuses, stages, the policy and the lifecycle rules;
* :mod:`~models.suggestions.drafts`: the proposer's side — the draft, its checks and submission,
  similar suggestions to back instead, revealing one's name;
* :mod:`~models.suggestions.actions`: the cadre's versioned steps, and which of them are allowed now;
* :mod:`~models.suggestions.queries`: who reviews what, the queue, a member's list, the cadre's view;
* :mod:`~models.suggestions.deadlines`, :mod:`~models.suggestions.figures`,
  :mod:`~models.suggestions.appraisal`, :mod:`~models.suggestions.similarity`: the reminders,
  the statistics, the quarterly appraisal and the search terms.

The names other packages use are re-exported here (``from models.suggestions import submit_suggestion``);
the modules import one another directly, never through this one, so there is no import cycle.
"""

from __future__ import annotations

from models.suggestions.actions import (
    Action,
    Conflict,
    allowed_actions,
    award_refusal,
    award_suggestion,
    close_blockers,
    close_suggestion,
    decide_suggestion,
    first_review,
    implemented,
    may_award,
    merge_suggestion,
    merge_target,
    panel_review,
    record_effect,
    register_suggestion,
    reply_to_proposer,
    start_implementation,
)
from models.suggestions.drafts import (
    PhotoRef,
    Similar,
    SuggestionDraft,
    SupportOutcome,
    check_draft,
    reveal_name,
    similar_suggestions,
    submit_suggestion,
    support_suggestion,
)
from models.suggestions.queries import (
    CadreView,
    MemberView,
    MyEntry,
    MyList,
    QueueCounts,
    cadre_view,
    history,
    member_view,
    my_suggestions,
    own_suggestion,
    photos_of,
    queue_counts,
    review_queue,
    review_scope,
    reviewable_by_number,
    reviewers_for,
    reviews_suggestions,
    suggestions_of,
    supporter_count,
    visible_by_number,
)
from models.suggestions.tables import (
    ADOPTED_STATUSES,
    AMOUNT_MAX_FEN,
    AWARD_LABELS,
    BENEFIT_MAX,
    DEFAULT_CATEGORIES,
    DEPARTMENT_MAX,
    FEASIBILITY_LABELS,
    MEASURE_MAX,
    NUMBER_PREFIX,
    OPEN_STATUSES,
    OPINION_MAX,
    PHOTOS_MAX,
    PUSHED_EVENTS,
    REPLY_MAX,
    STAGE_OF,
    STATUS_LABELS,
    SUPPORTABLE_STATUSES,
    TITLE_MAX,
    TRANSITIONS,
    UPDATE_TOPIC,
    Award,
    EventKind,
    Feasibility,
    Stage,
    Suggestion,
    SuggestionEvent,
    SuggestionPhoto,
    SuggestionPolicy,
    SuggestionStatus,
    SuggestionSupport,
    check_amount,
    check_transition,
    expected_dates,
    local_date,
    parse_suggestion_number,
    suggestion_number,
    transition,
    utc_midnight,
    wrong_stage,
)

__all__ = [
    "ADOPTED_STATUSES",
    "AMOUNT_MAX_FEN",
    "AWARD_LABELS",
    "BENEFIT_MAX",
    "DEFAULT_CATEGORIES",
    "DEPARTMENT_MAX",
    "FEASIBILITY_LABELS",
    "MEASURE_MAX",
    "NUMBER_PREFIX",
    "OPEN_STATUSES",
    "OPINION_MAX",
    "PHOTOS_MAX",
    "PUSHED_EVENTS",
    "REPLY_MAX",
    "STAGE_OF",
    "STATUS_LABELS",
    "SUPPORTABLE_STATUSES",
    "TITLE_MAX",
    "TRANSITIONS",
    "UPDATE_TOPIC",
    "Action",
    "Award",
    "CadreView",
    "Conflict",
    "EventKind",
    "Feasibility",
    "MemberView",
    "MyEntry",
    "MyList",
    "PhotoRef",
    "QueueCounts",
    "Similar",
    "Stage",
    "Suggestion",
    "SuggestionDraft",
    "SuggestionEvent",
    "SuggestionPhoto",
    "SuggestionPolicy",
    "SuggestionStatus",
    "SuggestionSupport",
    "SupportOutcome",
    "allowed_actions",
    "award_refusal",
    "award_suggestion",
    "cadre_view",
    "check_amount",
    "check_draft",
    "check_transition",
    "close_blockers",
    "close_suggestion",
    "decide_suggestion",
    "expected_dates",
    "first_review",
    "history",
    "implemented",
    "local_date",
    "may_award",
    "member_view",
    "merge_suggestion",
    "merge_target",
    "my_suggestions",
    "own_suggestion",
    "panel_review",
    "parse_suggestion_number",
    "photos_of",
    "queue_counts",
    "record_effect",
    "register_suggestion",
    "reply_to_proposer",
    "reveal_name",
    "review_queue",
    "review_scope",
    "reviewable_by_number",
    "reviewers_for",
    "reviews_suggestions",
    "similar_suggestions",
    "start_implementation",
    "submit_suggestion",
    "suggestion_number",
    "suggestions_of",
    "support_suggestion",
    "supporter_count",
    "transition",
    "utc_midnight",
    "visible_by_number",
    "wrong_stage",
]
