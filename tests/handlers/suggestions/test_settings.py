"""The suggestion settings an admin writes as UNIONBOT_SUGGESTION_* become the policy the rules read."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from handlers.suggestions.settings import SuggestionSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_anonymity_and_awards_default_to_a_crowd_of_twenty_and_a_warning() -> None:
    policy = SuggestionSettings().policy(SHANGHAI)
    assert (policy.anonymity_min_members, policy.award_requires_implementation) == (20, False)


def test_anonymity_and_awards_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONBOT_SUGGESTION_ANONYMITY_MIN_MEMBERS", "50")
    monkeypatch.setenv("UNIONBOT_SUGGESTION_AWARD_REQUIRES_IMPLEMENTATION", "true")
    policy = SuggestionSettings().policy(SHANGHAI)
    assert (policy.anonymity_min_members, policy.award_requires_implementation) == (50, True)


def test_a_crowd_of_nobody_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNIONBOT_SUGGESTION_ANONYMITY_MIN_MEMBERS", "0")
    with pytest.raises(ValidationError):
        SuggestionSettings()
