"""A feature declares itself once, in its :class:`Module`; the :class:`Registry` puts the modules together.

The router, the delivery worker's renderers, the scheduler, the WeChat menu and
the Telegram command list are all built from one tuple of modules
(``handlers.modules.MODULES``), so a feature is added by writing its package and
naming its module there, and nothing else lists features. Whatever two modules
could silently overwrite in each other (a feature name, a word, a flow, a push
topic, a job) is refused when the registry is built, naming both sides, so a
clash stops start-up and the tests instead of a member's conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session

from handlers.core.context import Context, CoreConfig
from handlers.core.dialogs import Flow
from handlers.core.features import Feature
from handlers.core.messages import Reply
from handlers.core.parsing import normalise
from handlers.core.pushes import AfterBatch, PushRenderers, Renderer
from handlers.core.schedule import ScheduleError, parse_schedule
from models.base import utcnow
from models.db import SessionFactory
from models.errors import N_

P = TypeVar("P")


class ModuleSettings(BaseSettings):
    """A feature's own part of the settings, read from ``UNIONBOT_*`` like every other setting.

    A subclass lists its fields (``suggestion_register_days: int = 3``) and turns
    them into the policy its rules take; :meth:`policy` returns the settings
    themselves where they need no turning.
    """

    model_config = SettingsConfigDict(
        env_prefix="UNIONBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    def policy(self, zone: ZoneInfo) -> object:
        """The policy object the feature's rules take (``ctx.config.policy(ThatType)``)."""
        return self


@dataclass(frozen=True)
class JobContext:
    """What a scheduled job gets: the database, the union's configuration, and a clock tests can set.

    ``due`` is the scheduled time the run stands for: the trigger's time when the scheduler fires
    it, the time it missed when it catches up after start-up, a time in the month asked for with
    ``jobs run NAME --period 2026-12``. A job that works per period takes its period from it
    (:meth:`due_at`), so a late run still queues the missed period's pushes under that period's
    keys, and never a second time.
    """

    sessions: SessionFactory
    config: CoreConfig
    clock: Callable[[], datetime] = field(default=utcnow)
    due: datetime | None = None

    def policy(self, kind: type[P]) -> P:
        return self.config.policy(kind)

    def due_at(self) -> datetime:
        """The scheduled time this run stands for: ``due``, or now when run by hand."""
        return self.due if self.due is not None else self.clock()


@dataclass(frozen=True)
class Job:
    """A scheduled job.

    Attributes:
        id: stable name, for the logs and the command line.
        run: does the work, in a thread; returns how many pushes it queued. It only queues
            outbox rows under keys that name its period, so a second run sends nothing twice.
        schedule: when, as a crontab line ("30 8 * * *", "0 9 * * mon") in the union's time zone,
            working days allowed in the day field ("0 9 1W * *": the month's first working day;
            handlers.core.schedule). The default: the settings may give another
            (``UNIONBOT_JOB_SCHEDULES``). Weekdays by name, since the scheduler reads weekday
            numbers from 0 = Monday, a day off from crontab's 0 = Sunday (the registry refuses them).
        catch_up: also run shortly after start-up (and when this process takes over from one that
            died), for what a stopped process missed.
        catch_up_window: None: that run is for the present, for a job that works out from the clock
            what is due (the "三及时" deadlines). A span: the run is for the schedule's latest time
            within it that no run finished after (``JobContext.due``), and there is none when the
            schedule had no time in it, or a run already covered it: a monthly call missed on the
            1st is sent on the 2nd for that month, and not again at every restart.
        monthly: the run stands for the month of its ``due`` time, and ``jobs run NAME
            --period 2026-12`` may run it for another month.
    """

    id: str
    run: Callable[[JobContext], int]
    schedule: str
    catch_up: bool = True
    catch_up_window: timedelta | None = None
    monthly: bool = False


class MenuGroup(StrEnum):
    """The three top-level buttons of the WeChat menu; each module says where its entries go."""

    SERVICES = "services"  # 会员服务
    NEWS = "news"  # 工会动态
    MINE = "mine"  # 我的


GROUP_LABELS: Mapping[MenuGroup, str] = {
    MenuGroup.SERVICES: N_("会员服务"),
    MenuGroup.NEWS: N_("工会动态"),
    MenuGroup.MINE: N_("我的"),
}


@dataclass(frozen=True)
class MenuSlot:
    """A feature's place in the WeChat menu: its group, and its rank there (lower first)."""

    group: MenuGroup
    feature: str
    rank: int


@dataclass(frozen=True)
class Command:
    """An entry of the command list Telegram shows beside the text box: ``/name`` and what it does."""

    name: str
    description: str  # a msgid
    rank: int  # its place in the list, lower first, across every module


@dataclass(frozen=True)
class ScorePeriod:
    """The stretch of time a ranking covers: a month or a quarter, in UTC, the end excluded.

    ``config`` is the union's configuration, for a score whose rule has settings of its
    feature (the "三及时" deadlines in working days): ``period.config.policy(ThatPolicy)``.
    """

    start: datetime
    end: datetime
    config: CoreConfig = field(default_factory=CoreConfig)


# (session, period, subtrees: each ranked unit's id → the ids of every unit in its subtree) → a value
# for each ranked unit that has data. A unit left out had none, so the ranking leaves this input out
# for it and shares its weight among the others, instead of scoring it zero.
ScoreCompute = Callable[[Session, ScorePeriod, Mapping[int, frozenset[int]]], Mapping[int, float]]


@dataclass(frozen=True)
class Score:
    """One input of the units' ranking (打分排队), computed by the feature that owns its data.

    The ranking knows no feature: each module offers the figures it keeps (suggestions per
    100 members, the dues collection rate…), so a new feature joins the ranking by declaring
    a score, and the ranking's weights name them by ``id``. Higher is better.

    Attributes:
        id: stable name, the key of its weight in the settings ("dues_collection").
        label: what the digest calls it (a msgid, "会费收缴率").
        compute: the values per unit for a period.
    """

    id: str
    label: str
    compute: ScoreCompute


@dataclass(frozen=True)
class Reminder:
    """A kind of reminder a module sends, which 我的信息 lets a member turn off and on again.

    Attributes:
        topic: the name the opt-out is stored under (``models.preferences``), e.g. "collect".
        label: what the member sees in 我的信息 (a msgid, "每月征集提醒").
        optional: whether a member may turn it off under this union's settings; a reminder the
            union insists on (dues, where the settings say so) is listed as always on.
    """

    topic: str
    label: str
    optional: Callable[[CoreConfig], bool] = lambda config: True


# Adds a feature's examples to the demo union, whose units and members are already in: the session,
# the union's configuration (for the feature's policy) and the one instant the whole demo is dated from.
DemoSeeder = Callable[[Session, CoreConfig, datetime], None]
# What a member who is not bound yet meets: (context, replies to show first, what they typed).
Greeter = Callable[[Context, "list[Reply] | None", "str | None"], list[Reply]]


@dataclass(frozen=True)
class Module:
    """Everything one feature brings, in one place.

    Attributes:
        name: the feature package's name ("suggestions").
        features: what a member can ask for, in menu order.
        flows: the feature's dialogs.
        renderers: how each outbox topic the feature owns reads, by topic.
        after_batch: what to do once a delivery batch sent pushes of a topic (a sender's progress).
        produces: the outbox topics the feature queues; each must have a renderer in some module.
        jobs: its scheduled jobs.
        settings: its part of the settings, whose :meth:`ModuleSettings.policy` its rules take.
        menu: its entries in the WeChat menu.
        commands: its entries in Telegram's command list.
        demo: adds its examples to the demo union (``make demo``), once its people are loaded.
        unbound: what a member who is not bound meets (exactly one module, the account's).
        scores: what it contributes to the units' ranking.
        reminders: the reminders it sends that a member may turn off in 我的信息.
        links: Telegram deep links it answers, by prefix: ``{"act": "activities"}`` makes
            ``t.me/<bot>?start=act_12`` (``/start act_12``) run the feature "activities" with "12".
    """

    name: str
    features: tuple[Feature, ...] = ()
    flows: tuple[Flow, ...] = ()
    renderers: Mapping[str, Renderer] = field(default_factory=dict)
    after_batch: Mapping[str, AfterBatch] = field(default_factory=dict)
    produces: tuple[str, ...] = ()
    jobs: tuple[Job, ...] = ()
    settings: type[ModuleSettings] | None = None
    menu: tuple[MenuSlot, ...] = ()
    commands: tuple[Command, ...] = ()
    demo: DemoSeeder | None = None
    unbound: Greeter | None = None
    scores: tuple[Score, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    links: Mapping[str, str] = field(default_factory=dict)


class RegistryError(ValueError):
    """Two modules claim the same thing, or a module names something nobody provides."""


# What Telegram accepts as a command name; anything else makes it refuse the whole list at start-up.
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
# A deep link's prefix: letters only, so "act_12" splits at its first underscore.
_LINK_PREFIX = re.compile(r"[a-z]{1,10}")


class _Claims:
    """Who claimed what so far, by kind and key: the other side a clash is reported with."""

    def __init__(self) -> None:
        self._owners: dict[tuple[str, str], str] = {}

    def claim(self, kind: str, key: str, owner: str) -> None:
        other = self._owners.get((kind, key))
        if other is None:
            self._owners[(kind, key)] = owner
            return
        if other == owner:
            raise RegistryError(f"{kind} {key!r} is declared twice by {owner}")
        raise RegistryError(f"{kind} {key!r} is declared twice: by {other} and by {owner}")

    def owner(self, kind: str, key: str) -> str:
        return self._owners[(kind, key)]


def _check_schedule(job: Job, owner: str) -> None:
    """A job's schedule must be a crontab line, working days (1W, LW) allowed, weekdays by name."""
    try:
        parse_schedule(job.schedule)
    except ScheduleError as error:
        raise RegistryError(f"job {job.id!r} of {owner} {error}") from None


@dataclass(frozen=True)
class Registry:
    """The modules put together, checked. Build it with :func:`build_registry`."""

    modules: tuple[Module, ...]
    features: Mapping[str, Feature]
    words: Mapping[str, Feature]
    # (phrase, feature), the longest first: what a sentence that is no command may be asking for.
    phrases: tuple[tuple[str, Feature], ...]
    flows: tuple[Flow, ...]
    pushes: PushRenderers
    jobs: tuple[Job, ...]
    menu: Mapping[MenuGroup, tuple[str, ...]]
    commands: tuple[Command, ...]
    unbound: Greeter
    scores: tuple[Score, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    # Deep-link prefix → the feature it opens (``/start act_12`` → "activities" with "12").
    links: Mapping[str, Feature] = field(default_factory=dict)

    def policies(self, zone: ZoneInfo, overrides: Mapping[str, object] | None = None) -> dict[type, object]:
        """Each module's policy, from its settings (``overrides`` by field name, for tests and checks).

        Raises:
            pydantic.ValidationError: a module's setting is wrong; bot.settings names it.
            RegistryError: two modules' settings give a policy of the same type, so the rules
                of one would read the other's.
        """
        policies: dict[type, object] = {}
        owners: dict[type, str] = {}
        for module in self.modules:
            if module.settings is None:
                continue
            fields = module.settings.model_fields
            given = {key: value for key, value in (overrides or {}).items() if key in fields}
            policy = module.settings(**given).policy(zone)  # type: ignore[arg-type]
            kind = type(policy)
            if kind in owners:
                raise RegistryError(
                    f"policy {kind.__name__} is given twice: by the settings of module {owners[kind]!r}"
                    f" and by those of module {module.name!r}"
                )
            owners[kind] = module.name
            policies[kind] = policy
        return policies


def build_registry(modules: Iterable[Module], *, cancel_words: Iterable[str] = ()) -> Registry:
    """Put the modules together, refusing anything two of them would overwrite in each other.

    Where a member meets the features (the main menu, the help, the WeChat menu, Telegram's
    command list) is decided by ranks, not by the order of ``modules``; that order decides
    only what ranks leave tied, the order of the jobs, and the order the demo union is
    filled in (a module's examples may build on an earlier module's).

    Args:
        modules: the modules, the core's own (menu and help) first.
        cancel_words: words the router itself answers (取消) before any feature: no feature
            may claim one, and a command may name one.

    Raises:
        RegistryError: a module name, a feature name, a word, a flow, a push topic's renderer
            or after-batch hook, a job id, a menu slot, a command, a score, a reminder
            topic or a deep link prefix declared twice; a job's schedule that is no crontab
            line or gives weekdays by number; a word that is one of ``cancel_words``; a menu
            slot naming no feature, or one not in the menu; a command naming no feature's
            word, or one Telegram would refuse; a deep link naming no feature, or with a
            prefix not of a-z; a topic produced, or given an after-batch hook, without a
            renderer; no module, or two, for members not yet bound.
    """
    modules = tuple(modules)
    cancel = {normalise(word) for word in cancel_words}
    claims = _Claims()
    features: dict[str, Feature] = {}
    words: dict[str, Feature] = {}
    phrases: dict[str, Feature] = {}
    flows: list[Flow] = []
    renderers: dict[str, Renderer] = {}
    hooks: dict[str, AfterBatch] = {}
    jobs: list[Job] = []
    greeters: list[tuple[str, Greeter]] = []
    for position, module in enumerate(modules, start=1):
        claims.claim("module name", module.name, f"module #{position}")
        owner = f"module {module.name!r}"
        for feature in module.features:
            claims.claim("feature", feature.name, owner)
            features[feature.name] = feature
            speaker = f"feature {feature.name!r} of {owner}"
            # A member may type a label ("我的信息"): of two features with one label, one is unreachable.
            claims.claim("label", feature.label, speaker)
            for said in dict.fromkeys(normalise(word) for word in feature.words):  # "?" and "？" are one
                if said in cancel:
                    raise RegistryError(
                        f"word {said!r} of {speaker} is a cancel word, which the router answers itself"
                    )
                claims.claim("word", said, speaker)
                words[said] = feature
            for phrase in dict.fromkeys(normalise(phrase) for phrase in feature.phrases):
                claims.claim("phrase", phrase, speaker)
                phrases[phrase] = feature
        for flow in module.flows:
            claims.claim("flow", flow.name, owner)
            flows.append(flow)
        for topic, function in module.renderers.items():
            claims.claim("renderer of push topic", topic, owner)
            renderers[topic] = function
        for topic, hook in module.after_batch.items():
            claims.claim("after-batch hook of push topic", topic, owner)
            hooks[topic] = hook
        for job in module.jobs:
            claims.claim("job", job.id, owner)
            _check_schedule(job, owner)
            jobs.append(job)
        for slot in module.menu:
            claims.claim("menu slot of feature", slot.feature, owner)
        for command in module.commands:
            claims.claim("command", f"/{command.name}", owner)
        for score in module.scores:
            claims.claim("score", score.id, owner)
        for reminder in module.reminders:
            claims.claim("reminder topic", reminder.topic, owner)
        for prefix in module.links:
            claims.claim("deep link prefix", prefix, owner)
        if module.unbound is not None:
            greeters.append((owner, module.unbound))
    # What a module names must exist somewhere, so these wait until every module is in.
    for module in modules:
        owner = f"module {module.name!r}"
        for topic in module.produces:
            if topic not in renderers:
                raise RegistryError(f"push topic {topic!r} produced by {owner} has no renderer in any module")
        for topic in module.after_batch:
            if topic not in renderers:
                raise RegistryError(
                    f"after-batch hook of push topic {topic!r} of {owner} has no renderer in any module"
                )
        for slot in module.menu:
            shown = features.get(slot.feature)
            if shown is None:
                raise RegistryError(f"menu slot {slot.feature!r} of {owner} names no feature")
            if not shown.in_menu:
                raise RegistryError(
                    f"menu slot {slot.feature!r} of {owner} names a feature of"
                    f" {claims.owner('feature', shown.name)} that is not in the menu (in_menu=False)"
                )
        for command in module.commands:
            if not _COMMAND_NAME.fullmatch(command.name):
                raise RegistryError(
                    f"command /{command.name} of {owner} is not what Telegram takes:"
                    " 1 to 32 of a-z, 0-9 and _"
                )
            said = normalise(f"/{command.name}")
            if said not in words and said not in cancel:
                raise RegistryError(f"command /{command.name} of {owner} names no feature's word")
    links: dict[str, Feature] = {}
    for module in modules:
        for prefix, name in module.links.items():
            if not _LINK_PREFIX.fullmatch(prefix):
                raise RegistryError(
                    f"deep link prefix {prefix!r} of module {module.name!r} is not 1 to 10 of a-z"
                )
            if name not in features:
                raise RegistryError(f"deep link prefix {prefix!r} of module {module.name!r} names no feature")
            links[prefix] = features[name]
    if not greeters:
        raise RegistryError("no module greets members not yet bound (Module.unbound); exactly one must")
    if len(greeters) > 1:
        both = " and by ".join(owner for owner, _greeter in greeters)
        raise RegistryError(f"members not yet bound are greeted by {both}; exactly one module may greet them")
    slots = [slot for module in modules for slot in module.menu]
    return Registry(
        modules=modules,
        features=dict(sorted(features.items(), key=lambda item: item[1].rank)),
        words=words,
        phrases=tuple(sorted(phrases.items(), key=lambda item: -len(item[0]))),
        flows=tuple(flows),
        pushes=PushRenderers(renderers, hooks),
        jobs=tuple(jobs),
        menu={
            group: tuple(
                slot.feature for slot in sorted(slots, key=lambda slot: slot.rank) if slot.group is group
            )
            for group in MenuGroup
        },
        commands=tuple(
            sorted((command for module in modules for command in module.commands), key=lambda c: c.rank)
        ),
        unbound=greeters[0][1],
        scores=tuple(score for module in modules for score in module.scores),
        reminders=tuple(reminder for module in modules for reminder in module.reminders),
        links=links,
    )
