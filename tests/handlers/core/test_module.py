"""The registry refuses, naming both sides, whatever two modules would overwrite in each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.dialogs import Ask, Data, Flow
from handlers.core.features import Feature
from handlers.core.i18n import Translator
from handlers.core.messages import Reply
from handlers.core.module import (
    Command,
    Job,
    JobContext,
    MenuGroup,
    MenuSlot,
    Module,
    ModuleSettings,
    Registry,
    RegistryError,
    Reminder,
    Score,
    ScorePeriod,
    build_registry,
)
from handlers.core.pushes import Push
from handlers.core.router import CANCEL_WORDS
from handlers.modules import MODULES, REGISTRY, registry
from models.outbox import PushRow


def _run(ctx: Context, arg: str) -> list[Reply]:
    return []


def _greet(ctx: Context, intro: list[Reply] | None, said: str | None) -> list[Reply]:
    return []


def _done(ctx: Context, data: Data) -> list[Reply]:
    return []


def _render(session: Session, row: PushRow, translator: Translator, zone: tzinfo) -> Push | None:
    return None


def _job(context: JobContext) -> int:
    return 0


def feature(name: str, *words: str, rank: int = 1000, in_menu: bool = True) -> Feature:
    return Feature(name=name, label=name, summary=name, words=words, run=_run, rank=rank, in_menu=in_menu)


def flow(name: str) -> Flow:
    return Flow(name=name, steps=(Ask("what", "?"),), on_done=_done)


# Someone must greet members not yet bound; these tests are about everything else.
GREETER = Module(name="greeter", unbound=_greet)


def build(*modules: Module) -> Registry:
    return build_registry((GREETER, *modules), cancel_words=CANCEL_WORDS)


def refusal(*modules: Module) -> str:
    with pytest.raises(RegistryError) as refused:
        build(*modules)
    return str(refused.value)


def test_the_bots_own_modules_make_a_registry() -> None:
    assert REGISTRY.modules == MODULES
    assert registry().features.keys() == REGISTRY.features.keys()


def test_two_modules_of_one_name_are_refused() -> None:
    message = refusal(Module(name="outings"), Module(name="outings"))
    assert message == "module name 'outings' is declared twice: by module #2 and by module #3"


def test_a_feature_name_declared_twice_is_refused_naming_both_modules() -> None:
    message = refusal(
        Module(name="outings", features=(feature("trips", "/trips"),)),
        Module(name="travel", features=(feature("trips", "/travel"),)),
    )
    assert message == "feature 'trips' is declared twice: by module 'outings' and by module 'travel'"


def test_two_features_answering_one_normalised_word_are_refused_naming_both() -> None:
    message = refusal(
        Module(name="outings", features=(feature("trips", "春游"),)),
        Module(name="travel", features=(feature("tours", " 春游\u200b"),)),
    )
    assert message == (
        "word '春游' is declared twice: by feature 'trips' of module 'outings'"
        " and by feature 'tours' of module 'travel'"
    )


def test_two_features_with_one_menu_label_are_refused_naming_both() -> None:
    trips = Feature(name="trips", label="春游", summary="", words=("/trips",), run=_run)
    tours = Feature(name="tours", label="春游", summary="", words=("/tours",), run=_run)
    message = refusal(Module(name="outings", features=(trips,)), Module(name="travel", features=(tours,)))
    assert message == (
        "label '春游' is declared twice: by feature 'trips' of module 'outings'"
        " and by feature 'tours' of module 'travel'"
    )


def test_a_feature_may_list_two_spellings_of_one_word() -> None:
    built = build(Module(name="quiz", features=(feature("quiz", "?", "？", "Quiz", "quiz"),)))
    assert built.words["?"].name == "quiz"
    assert built.words["quiz"].name == "quiz"


def test_a_word_the_router_answers_itself_is_refused() -> None:
    message = refusal(Module(name="outings", features=(feature("trips", "算了"),)))
    assert message == (
        "word '算了' of feature 'trips' of module 'outings' is a cancel word, which the router answers itself"
    )


def test_a_flow_name_declared_twice_is_refused_naming_both_modules() -> None:
    message = refusal(
        Module(name="outings", flows=(flow("sign_up"),)), Module(name="travel", flows=(flow("sign_up"),))
    )
    assert message == "flow 'sign_up' is declared twice: by module 'outings' and by module 'travel'"


def test_one_module_declaring_a_flow_twice_is_refused() -> None:
    message = refusal(Module(name="outings", flows=(flow("sign_up"), flow("sign_up"))))
    assert message == "flow 'sign_up' is declared twice by module 'outings'"


def test_two_renderers_for_one_push_topic_are_refused_naming_both_modules() -> None:
    message = refusal(
        Module(name="outings", renderers={"trip": _render}),
        Module(name="travel", renderers={"trip": _render}),
    )
    assert message == (
        "renderer of push topic 'trip' is declared twice: by module 'outings' and by module 'travel'"
    )


def test_a_produced_topic_is_refused_until_some_module_renders_it() -> None:
    assert refusal(Module(name="outings", produces=("trip",))) == (
        "push topic 'trip' produced by module 'outings' has no renderer in any module"
    )
    # Rendered by another module, as 季度评比's result is by the notices module, it is fine.
    built = build(
        Module(name="outings", produces=("trip",)), Module(name="travel", renderers={"trip": _render})
    )
    assert set(built.pushes.renderers) == {"trip"}


def test_an_after_batch_hook_without_a_renderer_is_refused() -> None:
    message = refusal(Module(name="outings", after_batch={"trip": lambda session, ids, now: None}))
    assert (
        message == "after-batch hook of push topic 'trip' of module 'outings' has no renderer in any module"
    )


def test_a_menu_slot_naming_no_feature_is_refused() -> None:
    message = refusal(Module(name="outings", menu=(MenuSlot(MenuGroup.SERVICES, "trips", 30),)))
    assert message == "menu slot 'trips' of module 'outings' names no feature"


def test_a_menu_slot_for_a_feature_kept_out_of_the_menu_is_refused_naming_both() -> None:
    message = refusal(
        Module(name="outings", features=(feature("trips", "/trips", in_menu=False),)),
        Module(name="travel", menu=(MenuSlot(MenuGroup.SERVICES, "trips", 30),)),
    )
    assert message == (
        "menu slot 'trips' of module 'travel' names a feature of module 'outings'"
        " that is not in the menu (in_menu=False)"
    )


def test_two_menu_slots_for_one_feature_are_refused_naming_both_modules() -> None:
    message = refusal(
        Module(
            name="outings",
            features=(feature("trips", "/trips"),),
            menu=(MenuSlot(MenuGroup.NEWS, "trips", 30),),
        ),
        Module(name="travel", menu=(MenuSlot(MenuGroup.SERVICES, "trips", 30),)),
    )
    assert (
        message
        == "menu slot of feature 'trips' is declared twice: by module 'outings' and by module 'travel'"
    )


def test_a_job_id_used_twice_is_refused_naming_both_modules() -> None:
    message = refusal(
        Module(name="outings", jobs=(Job("remind", _job, "0 9 * * *"),)),
        Module(name="travel", jobs=(Job("remind", _job, "0 18 * * *"),)),
    )
    assert message == "job 'remind' is declared twice: by module 'outings' and by module 'travel'"


@pytest.mark.parametrize(
    ("schedule", "wrong"),
    [
        ("0 9 * *", "has no crontab line of five fields: '0 9 * *'"),
        ("0 9 * * 1", "gives weekdays by number ('1')"),
        ("0 9 * * 1-5", "gives weekdays by number ('1-5')"),
    ],
)
def test_a_schedule_the_scheduler_would_misread_is_refused(schedule: str, wrong: str) -> None:
    message = refusal(Module(name="outings", jobs=(Job("remind", _job, schedule),)))
    assert message.startswith(f"job 'remind' of module 'outings' {wrong}")
    built = build(Module(name="outings", jobs=(Job("remind", _job, "0 9 * * mon-fri"),)))
    assert [job.id for job in built.jobs] == ["remind"]


def _no_score(session: Session, period: ScorePeriod, subtrees: object) -> dict[int, float]:
    return {}


def test_a_score_declared_twice_is_refused_naming_both_modules() -> None:
    message = refusal(
        Module(name="outings", scores=(Score("turnout", "出勤", _no_score),)),
        Module(name="travel", scores=(Score("turnout", "参与", _no_score),)),
    )
    assert message == "score 'turnout' is declared twice: by module 'outings' and by module 'travel'"


def test_every_modules_scores_reach_the_registry_in_module_order() -> None:
    built = build(
        Module(name="outings", scores=(Score("turnout", "出勤", _no_score),)),
        Module(name="travel", scores=(Score("trips", "出游", _no_score), Score("miles", "里程", _no_score))),
    )
    assert [score.id for score in built.scores] == ["turnout", "trips", "miles"]


def test_a_reminder_topic_declared_twice_is_refused_naming_both_modules() -> None:
    message = refusal(
        Module(name="outings", reminders=(Reminder("trips", "出游提醒"),)),
        Module(name="travel", reminders=(Reminder("trips", "旅行提醒"),)),
    )
    assert message == "reminder topic 'trips' is declared twice: by module 'outings' and by module 'travel'"


def test_a_deep_link_prefix_declared_twice_or_naming_nothing_is_refused() -> None:
    trips = feature("trips", "春游")
    message = refusal(
        Module(name="outings", features=(trips,), links={"trip": "trips"}),
        Module(name="travel", links={"trip": "trips"}),
    )
    assert message == "deep link prefix 'trip' is declared twice: by module 'outings' and by module 'travel'"
    message = refusal(Module(name="outings", links={"trip": "voyages"}))
    assert message == "deep link prefix 'trip' of module 'outings' names no feature"
    message = refusal(Module(name="outings", features=(trips,), links={"trip_x": "trips"}))
    assert message == "deep link prefix 'trip_x' of module 'outings' is not 1 to 10 of a-z"
    assert build(Module(name="outings", features=(trips,), links={"trip": "trips"})).links == {"trip": trips}


def test_a_command_naming_no_features_word_is_refused() -> None:
    message = refusal(
        Module(
            name="outings",
            features=(feature("trips", "春游"),),
            commands=(Command("trips", "trips", rank=90),),
        )
    )
    assert message == "command /trips of module 'outings' names no feature's word"


def test_a_command_may_name_a_cancel_word_and_any_modules_word() -> None:
    built = build(
        Module(name="outings", features=(feature("trips", "/Trips"),)),
        Module(
            name="travel", commands=(Command("trips", "trips", rank=90), Command("cancel", "cancel", rank=95))
        ),
    )
    assert [command.name for command in built.commands] == ["trips", "cancel"]


def test_a_command_declared_twice_is_refused_naming_both_modules() -> None:
    message = refusal(
        Module(
            name="outings", features=(feature("trips", "/trips"),), commands=(Command("trips", "a", rank=90),)
        ),
        Module(name="travel", commands=(Command("trips", "b", rank=91),)),
    )
    assert message == "command '/trips' is declared twice: by module 'outings' and by module 'travel'"


def test_a_command_telegram_would_refuse_is_refused_at_start_up() -> None:
    message = refusal(
        Module(
            name="outings", features=(feature("trips", "/trips"),), commands=(Command("Trips", "a", rank=90),)
        )
    )
    assert (
        message == "command /Trips of module 'outings' is not what Telegram takes: 1 to 32 of a-z, 0-9 and _"
    )


def test_members_not_yet_bound_need_exactly_one_greeter() -> None:
    with pytest.raises(RegistryError) as none:
        build_registry([Module(name="outings")])
    assert str(none.value) == "no module greets members not yet bound (Module.unbound); exactly one must"
    message = refusal(Module(name="doorman", unbound=_greet))
    assert message == (
        "members not yet bound are greeted by module 'greeter' and by module 'doorman';"
        " exactly one module may greet them"
    )


def test_menus_and_commands_follow_ranks_not_the_order_of_the_modules() -> None:
    late = Module(
        name="late",
        features=(feature("first", "/first", rank=1), feature("third", "/third", rank=3)),
        menu=(MenuSlot(MenuGroup.MINE, "first", 1), MenuSlot(MenuGroup.MINE, "third", 3)),
        commands=(Command("first", "first", rank=1), Command("third", "third", rank=3)),
    )
    early = Module(
        name="early",
        features=(feature("second", "/second", rank=2),),
        menu=(MenuSlot(MenuGroup.MINE, "second", 2),),
        commands=(Command("second", "second", rank=2),),
    )
    for built in (build(late, early), build(early, late)):
        assert list(built.features) == ["first", "second", "third"]
        assert built.menu == {
            MenuGroup.SERVICES: (),
            MenuGroup.NEWS: (),
            MenuGroup.MINE: ("first", "second", "third"),
        }
        assert [command.name for command in built.commands] == ["first", "second", "third"]


@dataclass(frozen=True)
class OutingPolicy:
    budget_yuan: int = 500


class OutingSettings(ModuleSettings):
    outing_budget_yuan: int = 500

    def policy(self, zone: ZoneInfo) -> object:
        return OutingPolicy(self.outing_budget_yuan)


class TravelSettings(ModuleSettings):
    """Another module's settings, turned into the outings' policy type by mistake."""

    travel_budget_yuan: int = 800

    def policy(self, zone: ZoneInfo) -> object:
        return OutingPolicy(self.travel_budget_yuan)


def test_two_modules_giving_one_policy_type_are_refused_naming_both() -> None:
    built = build(
        Module(name="outings", settings=OutingSettings), Module(name="travel", settings=TravelSettings)
    )
    shanghai = ZoneInfo("Asia/Shanghai")
    with pytest.raises(RegistryError) as refused:
        built.policies(shanghai)
    assert str(refused.value) == (
        "policy OutingPolicy is given twice:"
        " by the settings of module 'outings' and by those of module 'travel'"
    )
    alone = build(Module(name="outings", settings=OutingSettings)).policies(
        shanghai, {"outing_budget_yuan": 800}
    )
    assert alone == {OutingPolicy: OutingPolicy(800)}
