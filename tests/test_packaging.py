"""What cannot run here (Docker) is at least checked for shape; CI wiring is checked too."""

from __future__ import annotations

import tomllib

import yaml

from tests.conftest import ROOT


def test_compose_file_has_a_healthy_db_and_a_bot_that_migrates_then_serves():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert db["image"] == "postgres:16"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert "pgdata" in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["build"] == "."
    assert (ROOT / "Dockerfile").is_file()
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg2://") and "@db:5432/" in url
    assert bot["env_file"][0]["path"] == ".env"
    command = " ".join(bot["entrypoint"])
    assert command.index("roasbot db upgrade") < command.index("roasbot serve")


def test_ci_runs_the_readme_test_command_and_lint():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make lint" in ci
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make run" in readme


def test_the_console_script_and_dependencies_are_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["roasbot"] == "bot.cli:main"
    deps = " ".join(project["dependencies"])
    for name in (
        "slack-bolt",
        "apscheduler>=3.11.2,<4",
        "pandas",
        "sqlalchemy",
        "psycopg2-binary",
        "matplotlib",
        "pydantic-settings",
        "alembic",
        "openpyxl",
    ):
        assert name in deps


def test_env_example_documents_every_setting():
    from bot.settings import Settings

    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, name


def test_slack_manifest_declares_commands_scopes_events_and_socket_mode(store):
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    from insights.catalogue import COMMANDS
    from tests.inprocess import app_for, dispatch
    from tests.slack_standin import SlackStandIn, slash_command_body

    # The commands the app really answers: every catalogue name tried through Bolt's dispatch
    # (with text Bolt answers in the acknowledgement), an unregistered command is a 404.
    with SlackStandIn() as slack:
        app = app_for(slack, store)
        registered = {
            f"/{c.name}"
            for c in COMMANDS
            if dispatch(app, slash_command_body(f"/{c.name}", "help", "http://x")).status != 404
        }
        assert dispatch(app, slash_command_body("/nope", "help", "http://x")).status == 404
    assert (
        commands
        == registered
        == {"/roas", "/underperformers", "/personas", "/influencer", "/digest", "/alert"}
    )
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "commands",
        "chat:write",
        "files:read",
        "files:write",
        "channels:history",
        "groups:history",
        "im:history",
        "reactions:write",
    } <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {
        "app_home_opened", "app_mention", "message.channels", "message.groups", "message.im"
    } <= events  # fmt: skip
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
