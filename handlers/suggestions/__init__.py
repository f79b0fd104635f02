"""合理化建议 (金点子): the form, 我的建议, the review, 季度评比, 建议统计, "三及时" reminders, 月征集."""

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlmodel import Session

from handlers.core.module import MenuGroup, MenuSlot, Module, Score, ScoreCompute, ScorePeriod
from handlers.suggestions import appraisal, collection, figures, form, mine, reminders, review
from handlers.suggestions.demo import seed_suggestions
from handlers.suggestions.settings import SuggestionSettings
from models.errors import N_
from models.notices import TOPIC as NOTICE_TOPIC
from models.suggestions import UPDATE_TOPIC
from models.suggestions.collection import AGAIN_TOPIC, CALL_TOPIC
from models.suggestions.deadlines import DUE_TOPIC, OVERDUE_TOPIC
from models.suggestions.scores import adoption_rate, answered_on_time, suggestions_per_100
from models.suggestions.tables import SuggestionPolicy

SuggestionScore = Callable[
    [Session, datetime, datetime, Mapping[int, frozenset[int]], SuggestionPolicy], Mapping[int, float]
]


def _score(compute: SuggestionScore) -> ScoreCompute:
    """The ranking's computation of a suggestion figure, under the union's suggestion settings."""

    def run(
        session: Session, period: ScorePeriod, subtrees: Mapping[int, frozenset[int]]
    ) -> Mapping[int, float]:
        return compute(session, period.start, period.end, subtrees, period.config.policy(SuggestionPolicy))

    return run


MODULE = Module(
    name="suggestions",
    features=(
        form.SUGGEST,
        mine.MY_SUGGESTIONS,
        review.REVIEW,
        appraisal.FEATURE,
        figures.FEATURE,
        collection.FEATURE,
    ),
    flows=(*form.FLOWS, *mine.FLOWS, *review.FLOWS, *appraisal.FLOWS, *figures.FLOWS, *collection.FLOWS),
    renderers={
        UPDATE_TOPIC: mine.render_update,
        DUE_TOPIC: reminders.render_due,
        OVERDUE_TOPIC: reminders.render_overdue,
        CALL_TOPIC: collection.render_call,
        AGAIN_TOPIC: collection.render_again,
    },
    # 季度评比's result goes out as a notice, which the notices module renders.
    produces=(UPDATE_TOPIC, DUE_TOPIC, OVERDUE_TOPIC, NOTICE_TOPIC, CALL_TOPIC, AGAIN_TOPIC),
    jobs=(reminders.DEADLINES_JOB, collection.CALL_JOB, collection.AGAIN_JOB),
    reminders=(collection.REMINDER,),
    settings=SuggestionSettings,
    menu=(
        MenuSlot(MenuGroup.SERVICES, form.SUGGEST.name, 10),
        MenuSlot(MenuGroup.SERVICES, mine.MY_SUGGESTIONS.name, 20),
    ),
    demo=seed_suggestions,
    # The ranking's inputs (打分排队), defined in models.suggestions.scores.
    scores=(
        Score("suggestions_per_100", N_("每百人建议数"), _score(suggestions_per_100)),
        Score("adoption_rate", N_("建议采纳率"), _score(adoption_rate)),
        Score("answered_on_time", N_("“三及时”办理率"), _score(answered_on_time)),
    ),
)
