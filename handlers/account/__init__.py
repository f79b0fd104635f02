"""The member's account: binding and unbinding, 我的信息, the language, the channel pushes go to first."""

from handlers.account import binding, language, profile, push_channel
from handlers.core.module import Command, MenuGroup, MenuSlot, Module
from models.errors import N_

MODULE = Module(
    name="account",
    features=(
        profile.FEATURE,
        profile.REMINDERS,
        push_channel.FEATURE,
        language.FEATURE,
        binding.UNBIND,
        binding.START,
    ),
    flows=(binding.BIND_FLOW, binding.UNBIND_FLOW, language.FLOW, push_channel.FLOW),
    menu=(MenuSlot(MenuGroup.MINE, profile.FEATURE.name, 20),),
    commands=(
        Command("me", profile.FEATURE.label, rank=20),
        Command("lang", N_("切换语言"), rank=30),
        Command("unbind", binding.UNBIND.label, rank=60),
    ),
    unbound=binding.start_binding,
)
