"""The build and deployment files agree with each other and with the code.

No Docker engine runs in CI, so the Dockerfile and docker-compose.yml are
checked by reading them: a renamed setting, a lost healthcheck or a container
running as root fails here instead of on the server.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from bot.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"bot", "scheduler", "handlers", "models"}


def unknown_settings(environment: dict[str, str]) -> set[str]:
    """The UNIONBOT_* names that are not fields of bot.settings.Settings."""
    return {
        name
        for name in environment
        if not name.startswith(ENV_PREFIX)
        or name.removeprefix(ENV_PREFIX).lower() not in Settings.model_fields
    }


# -- docker-compose.yml ---------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # the ["NAME=value"] form
        return dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def test_compose_has_the_three_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "bot"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7-alpine"
    assert services["bot"]["build"] == "."
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], f"{name} needs a healthcheck for depends_on"


def test_compose_bot_waits_for_healthy_services(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert bot["restart"] == "unless-stopped"
    assert any(str(port).split(":")[-1] == "8080" for port in bot["ports"])
    assert any(str(volume).endswith(":/app/data") for volume in bot["volumes"])
    env_files = bot["env_file"]
    assert [(item["path"], item["required"]) for item in env_files] == [(".env", False)]


def test_compose_bot_environment_is_real_settings(compose: dict[str, Any]) -> None:
    environment = environment_of(compose["services"]["bot"])
    assert unknown_settings(environment) == set(), "not fields of bot.settings.Settings"
    # model_validate checks the values as Settings would, without reading this process's environment.
    settings = Settings.model_validate(
        {name.removeprefix(ENV_PREFIX).lower(): value for name, value in environment.items()}
    )
    postgres = compose["services"]["postgres"]["environment"]
    assert settings.database_url == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert settings.redis_url == "redis://redis:6379/0"


# -- Dockerfile -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            instructions.append((instruction.upper(), arguments.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(index for index, (instruction, _) in enumerate(instructions) if instruction == "FROM")
    return instructions[last_from:]


def args(instructions: list[tuple[str, str]], name: str) -> list[str]:
    return [arguments for instruction, arguments in instructions if instruction == name]


def test_dockerfile_uses_python_311_slim(dockerfile: list[tuple[str, str]]) -> None:
    for image in args(dockerfile, "FROM"):
        assert image.split()[0] == "python:3.11-slim"


def test_dockerfile_runs_as_a_user_other_than_root(dockerfile: list[tuple[str, str]]) -> None:
    users = args(final_stage(dockerfile), "USER")
    assert users, "the final stage needs a USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_runs_the_bot(dockerfile: list[tuple[str, str]]) -> None:
    stage = final_stage(dockerfile)
    assert json.loads(args(stage, "CMD")[-1]) == ["python", "-m", "bot", "run"]
    assert "8080" in args(stage, "EXPOSE")
    assert any("/app/data" in volume for volume in args(stage, "VOLUME"))
    environment = dict(item.split("=", 1) for env in args(stage, "ENV") for item in shlex.split(env))
    assert environment["UNIONBOT_DATA_DIR"] == "/app/data"
    assert environment["UNIONBOT_HTTP_HOST"] == "0.0.0.0"
    assert (
        unknown_settings({name: value for name, value in environment.items() if name.startswith("UNION")})
        == set()
    )


def test_dockerfile_compiles_the_catalogues_before_installing(dockerfile: list[tuple[str, str]]) -> None:
    runs = " && ".join(args(dockerfile, "RUN"))
    compile_at = runs.find("pybabel compile -d locales -D messages")
    install_at = runs.find("pip install --no-cache-dir .")
    assert compile_at != -1, "the image needs compiled catalogues"
    assert install_at > compile_at, "compile before installing, so the .mo files land in the wheel"


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".venv", "data", ".env"} <= ignored


# -- CI and the Makefile ----------------------------------------------------------


def test_ci_runs_make_test() -> None:
    path = ROOT / ".ci" / "run"
    assert path.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] in ("#!/usr/bin/env bash", "#!/bin/bash")
    assert "set -euo pipefail" in lines
    assert lines[-1] in ("make test", "exec make test")


def recipe(target: str) -> list[str]:
    """The recipe lines of a Makefile rule, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Makefile").read_text(encoding="utf-8"))
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if re.match(rf"^{target}\s*:(?!=)", line))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line.strip())
    return body


def test_make_test_runs_every_check_then_pytest() -> None:
    body = "\n".join(recipe("test"))
    steps = ["ruff check .", "ruff format --check .", "mypy", "lint-imports", "pytest"]
    positions = [body.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "in this order"
    assert "socket.create_connection" in (ROOT / "Makefile").read_text(encoding="utf-8")
    # pytest's status must reach CI: exit 5 (nothing collected) included.
    last = recipe("test")[-1]
    assert "pytest" in last.rsplit(";", 1)[-1]
    assert not any(mask in last for mask in ("|| true", "|| :", "; true", "| tee"))
    assert not any(line.startswith("-") for line in recipe("test"))


def test_make_compile_is_what_the_dockerfile_runs() -> None:
    assert any("pybabel compile -d locales -D messages" in line for line in recipe("compile"))


# -- pyproject.toml and the tool configs agree ---------------------------------------


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# Timezone data follows the calendar, not an API; new releases are always wanted.
UNBOUNDED_ALLOWED = {"tzdata"}


def test_dependencies_are_bounded_ranges(pyproject: dict[str, Any]) -> None:
    requirements = {
        Requirement(line).name.lower(): Requirement(line) for line in pyproject["project"]["dependencies"]
    }
    assert {"python-telegram-bot", "wechatpy", "sqlmodel", "apscheduler", "redis"} <= requirements.keys()
    unbounded = [
        str(requirement)
        for name, requirement in requirements.items()
        if name not in UNBOUNDED_ALLOWED
        and not any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier)
    ]
    assert not unbounded, "give these an upper bound (e.g. >=1.2,<2)"


def test_tool_configs_name_the_same_packages(pyproject: dict[str, Any]) -> None:
    assert set(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]) == PACKAGES
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"] == {"locales": "locales"}

    importlinter = configparser.ConfigParser()
    importlinter.read(ROOT / ".importlinter", encoding="utf-8")
    assert set(importlinter["importlinter"]["root_packages"].split()) == PACKAGES
    assert importlinter["importlinter"]["include_external_packages"] == "True"

    babel = configparser.RawConfigParser()
    babel.read(ROOT / "babel.cfg", encoding="utf-8")
    extracted = {section.split(":", 1)[1].strip().split("/")[0] for section in babel.sections()}
    assert extracted == PACKAGES


def test_gitignore_keeps_build_output_and_secrets_out() -> None:
    ignored = set((ROOT / ".gitignore").read_text(encoding="utf-8").split())
    assert {".venv/", "/data/", "*.mo", ".env"} <= ignored
