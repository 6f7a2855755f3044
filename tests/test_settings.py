from __future__ import annotations

import pytest

from ember.errors import SettingsError
from ember.settings import SETTINGS, load_settings


def test_defaults() -> None:
    s = load_settings(environ={})
    assert (s.host, s.port, s.grpc_port, s.working_dir) == ("127.0.0.1", 6006, 4317, "~/.ember")
    assert s.resolved_database_url.endswith("/.ember/ember.db")
    assert s.resolved_database_url.startswith("sqlite:///")


def test_flag_beats_environment_beats_default() -> None:
    env = {"EMBER_PORT": "7000", "EMBER_GRPC_PORT": "7001"}
    s = load_settings({"port": 8000, "grpc_port": None}, environ=env)
    assert s.port == 8000  # flag
    assert s.grpc_port == 7001  # environment
    assert s.host == "127.0.0.1"  # default


def test_database_url_from_working_dir(tmp_path: object) -> None:
    s = load_settings({"working_dir": "/data/ember"}, environ={})
    assert s.resolved_database_url == "sqlite:////data/ember/ember.db"
    s = load_settings(environ={"EMBER_DATABASE_URL": "sqlite:////x/y.db"})
    assert s.resolved_database_url == "sqlite:////x/y.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMBER_PORT": "seventy"}, "EMBER_PORT='seventy'"),
        ({"EMBER_PORT": "70000"}, "port number"),
        ({"EMBER_INGEST_QUEUE_SPANS": "0"}, "positive"),
        ({"EMBER_SQLITE_SYNCHRONOUS": "sometimes"}, "OFF, NORMAL, FULL, EXTRA"),
    ],
)
def test_bad_values_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ=env)


def test_every_setting_has_an_ember_env_var_and_help() -> None:
    names = [s.env for s in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.env.startswith("EMBER_")
        assert setting.help
