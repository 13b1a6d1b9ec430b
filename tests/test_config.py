"""config.yaml: the shipped example loads, and every mistake is reported by its key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import load_settings
from bot.errors import ConfigError
from tests.conftest import ROOT


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _example() -> dict:
    return yaml.safe_load((ROOT / "config.example.yaml").read_text())


def test_example_config_loads_with_secrets_from_the_environment() -> None:
    settings = load_settings(ROOT / "config.example.yaml",
                             {"TELEGRAM_BOT_TOKEN": "123:abc", "PORT": "9000"})
    assert settings.secrets.telegram_token == "123:abc"
    assert settings.secrets.port == 9000
    assert settings.secrets.twilio_auth_token is None
    assert {o.id for o in settings.offices} >= {"SGU", "ETK", "PTK", "RDN"}
    assert settings.village("sutera").office_id == "KTG"


def test_placeholders_are_obvious_never_invented_values() -> None:
    settings = load_settings(ROOT / "config.example.yaml", {})
    # Only Kanim Putussibau's phone has an official source (its 2023 service-standard letterhead).
    sourced = {"PSB": "(0567) 21231"}
    for office in settings.offices:
        assert office.phone == sourced.get(office.id) or office.phone.startswith("GANTI:"), office.id
    assert "id.scribd.com/document/642768040" in (ROOT / "config.example.yaml").read_text()


def test_a_village_pointing_at_a_missing_office_is_named(tmp_path: Path) -> None:
    data = _example()
    data["offices"] = [o for o in data["offices"] if o["id"] != "ETK"]
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, data), {})
    assert "villages[4].office: 'ETK' is not the id of an office in offices" in str(err.value)
    assert "villages[5].office: 'ETK'" in str(err.value)


def test_every_problem_comes_in_one_error_with_key_paths(tmp_path: Path) -> None:
    data = _example()
    data["offices"][2]["phone"] = None
    data["offices"][1]["id"] = "entikong"
    data["offices"][0]["officers"][0]["telegram_id"] = "abc"
    data["matcher"]["answer_score"] = 7
    data["matcher"]["cache_size"] = -1
    data["secrets"]["telegram_token"] = "123:leaked"
    with pytest.raises(ConfigError) as err:
        load_settings(_write(tmp_path, data), {"PORT": "http"})
    text = str(err.value)
    for expected in ("offices[2].phone: missing", "offices[1].id: 'entikong' must be 2-5 capital",
                     "offices[0].officers[0].telegram_id: must be a number",
                     "matcher.answer_score: must be a number from 0 to 1",
                     "matcher.cache_size: must be a number from 0 to 20000",
                     "secrets.telegram_token: unknown key", "PORT: 'http' is not a port number"):
        assert expected in text
    assert "123:leaked" not in text


def test_missing_or_broken_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml", {})
    bad = tmp_path / "bad.yaml"
    bad.write_text("offices: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad, {})


def test_the_database_is_a_sqlite_file_or_a_url_and_database_url_wins(tmp_path: Path) -> None:
    data = _example()
    default = load_settings(_write(tmp_path, data), {})
    assert default.storage == str(tmp_path / "data" / "desa-imigrasi.sqlite3") and default.database_url is None
    data["storage"] = {"url": "sqlite:///pilot/bot.sqlite3"}
    assert load_settings(_write(tmp_path, data), {}).storage == str(tmp_path / "pilot" / "bot.sqlite3")
    data["storage"] = {"url": "postgresql://desa@db:5432/desa"}
    assert load_settings(_write(tmp_path, data), {}).storage == "postgresql://desa@db:5432/desa"
    env = {"DATABASE_URL": "postgresql://other@db2/desa"}
    assert load_settings(_write(tmp_path, data), env).storage == "postgresql://other@db2/desa"
    data["storage"] = {"url": "mysql://nope"}
    with pytest.raises(ConfigError, match=r"storage\.url: must start with sqlite:/// or postgresql://"):
        load_settings(_write(tmp_path, data), {})
