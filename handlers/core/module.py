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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
    """What a scheduled job gets: the database, the union's configuration, and a clock tests can set."""

    sessions: SessionFactory
    config: CoreConfig
    clock: Callable[[], datetime] = field(default=utcnow)

    def policy(self, kind: type[P]) -> P:
        return self.config.policy(kind)


@dataclass(frozen=True)
class Job:
    """A scheduled job.

    Attributes:
        id: stable name, for the logs and the command line.
        run: does the work, in a thread; returns how many pushes it queued. It only queues
            outbox rows under keys that name its period, so a second run sends nothing twice.
        schedule: when, as a crontab line ("30 8 * * *") in the union's time zone.
        catch_up: also run shortly after start-up, for what a stopped process missed.
    """

    id: str
    run: Callable[[JobContext], int]
    schedule: str
    catch_up: bool = True


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


# Fills the demo union with a feature's examples (``make demo``): the session, the configuration, now.
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
        demo: its examples in the demo union.
        unbound: what a member who is not bound meets (exactly one module, the account's).
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


class RegistryError(ValueError):
    """Two modules claim the same thing, or a module names something nobody provides."""


def _claim(seen: dict[str, str], kind: str, key: str, owner: str) -> None:
    other = seen.get(key)
    if other is not None:
        raise RegistryError(f"{kind} {key!r} is declared twice: by {other} and by {owner}")
    seen[key] = owner


@dataclass(frozen=True)
class Registry:
    """The modules put together, checked. Build it with :func:`build_registry`."""

    modules: tuple[Module, ...]
    features: Mapping[str, Feature]
    words: Mapping[str, Feature]
    flows: tuple[Flow, ...]
    pushes: PushRenderers
    jobs: tuple[Job, ...]
    menu: Mapping[MenuGroup, tuple[str, ...]]
    commands: tuple[Command, ...]
    unbound: Greeter

    def policies(self, zone: ZoneInfo, overrides: Mapping[str, object] | None = None) -> dict[type, object]:
        """Each module's policy, from its settings (``overrides`` by field name, for tests and checks).

        Raises:
            pydantic.ValidationError: a module's setting is wrong; bot.settings names it.
        """
        policies: dict[type, object] = {}
        for module in self.modules:
            if module.settings is None:
                continue
            fields = module.settings.model_fields
            given = {key: value for key, value in (overrides or {}).items() if key in fields}
            policy = module.settings(**given).policy(zone)  # type: ignore[arg-type]
            policies[type(policy)] = policy
        return policies


def build_registry(modules: Iterable[Module], *, cancel_words: Iterable[str] = ()) -> Registry:
    """Put the modules together, refusing anything two of them would overwrite in each other.

    Args:
        modules: the core's own module first, then the features', in menu order.
        cancel_words: words the router itself answers (取消), so a command may name them.

    Raises:
        RegistryError: a feature name, a word, a flow, a push topic, a job id, a menu slot
            or a command declared twice; a menu slot or a command naming no feature; a topic
            produced without a renderer; no module, or two, for members not yet bound.
    """
    modules = tuple(modules)
    module_names: dict[str, str] = {}
    features: dict[str, Feature] = {}
    owners: dict[str, str] = {}
    words: dict[str, Feature] = {}
    word_owners: dict[str, str] = {}
    flows: list[Flow] = []
    flow_owners: dict[str, str] = {}
    renderers: dict[str, Renderer] = {}
    renderer_owners: dict[str, str] = {}
    after_batch: dict[str, AfterBatch] = {}
    after_owners: dict[str, str] = {}
    jobs: list[Job] = []
    job_owners: dict[str, str] = {}
    slots: dict[MenuGroup, list[MenuSlot]] = {group: [] for group in MenuGroup}
    slot_owners: dict[str, str] = {}
    commands: list[Command] = []
    command_owners: dict[str, str] = {}
    greeters: list[tuple[str, Greeter]] = []
    for module in modules:
        _claim(module_names, "module", module.name, f"module {module.name!r}")
        owner = f"module {module.name!r}"
        for feature in module.features:
            _claim(owners, "feature", feature.name, owner)
            features[feature.name] = feature
            for said in {normalise(word) for word in feature.words}:  # "?" and "？" are one word
                _claim(word_owners, "word", said, f"feature {feature.name!r} of {owner}")
                words[said] = feature
        for flow in module.flows:
            _claim(flow_owners, "flow", flow.name, owner)
            flows.append(flow)
        for topic, function in module.renderers.items():
            _claim(renderer_owners, "renderer of push topic", topic, owner)
            renderers[topic] = function
        for topic, hook in module.after_batch.items():
            _claim(after_owners, "after-batch hook of push topic", topic, owner)
            after_batch[topic] = hook
        for job in module.jobs:
            _claim(job_owners, "job", job.id, owner)
            jobs.append(job)
        for slot in module.menu:
            _claim(slot_owners, "menu slot", slot.feature, owner)
            slots[slot.group].append(slot)
        for command in module.commands:
            _claim(command_owners, "command", command.name, owner)
            commands.append(command)
        if module.unbound is not None:
            greeters.append((module.name, module.unbound))
    for module in modules:
        for topic in module.produces:
            if topic not in renderers:
                raise RegistryError(
                    f"push topic {topic!r} of module {module.name!r} has no renderer in any module"
                )
    for entries in slots.values():
        for slot in entries:
            if slot.feature not in features:
                raise RegistryError(
                    f"menu slot {slot.feature!r} of {slot_owners[slot.feature]} names no feature"
                )
            if not features[slot.feature].in_menu:
                raise RegistryError(f"menu slot {slot.feature!r} names a feature that is not in the menu")
    cancel = {normalise(word) for word in cancel_words}
    for command in commands:
        said = normalise("/" + command.name)
        if said not in words and said not in cancel:
            raise RegistryError(
                f"command /{command.name} of {command_owners[command.name]} names no feature's word"
            )
    if len(greeters) != 1:
        names = ", ".join(name for name, _greeter in greeters) or "none"
        raise RegistryError(f"exactly one module must greet members not yet bound; found: {names}")
    return Registry(
        modules=modules,
        features=dict(sorted(features.items(), key=lambda item: item[1].rank)),
        words=words,
        flows=tuple(flows),
        pushes=PushRenderers(renderers, after_batch),
        jobs=tuple(jobs),
        menu={
            group: tuple(slot.feature for slot in sorted(entries, key=lambda s: s.rank))
            for group, entries in slots.items()
        },
        commands=tuple(sorted(commands, key=lambda command: command.rank)),
        unbound=greeters[0][1],
    )
