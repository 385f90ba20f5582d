"""sites.yaml: the shipped file is valid, and a bad file stops start-up with one clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from consent import create_app
from consent.settings import PROJECT_ROOT, ConfigurationError
from consent.sites import SitesFileError, load_sites

SHIPPED = PROJECT_ROOT / "sites.yaml"


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, config: dict | str) -> Path:
    path = tmp_path / "sites.yaml"
    text = config if isinstance(config, str) else yaml.safe_dump(config, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_names_the_controller_and_the_four_sites():
    config = load_sites(SHIPPED)
    assert config.controller.label == "MIXVOIP Sa, 70, rue des Prés, L-7333 Steinsel, Luxembourg"
    assert config.controller.dpo_email == "dpo@mixvoip.com"
    assert config.policy.version == "2021-09-13"
    assert [s.id for s in config.sites] == ["mixvoip.com", "mixvoip.org", "voxbi.team", "voxbi.com"]
    for site in config.sites:
        assert site.origins == (f"https://www.{site.id}", f"https://{site.id}")
        assert site.partners
    assert {p.name for p in config.partners} >= {
        "Google Ads",
        "Meta Pixel",
        "LinkedIn Insight Tag",
        "Microsoft Advertising",
    }
    assert (config.durations.refusal_months, config.durations.consent_months) == (6, 13)


def _break(mutate):
    config = shipped()
    mutate(config)
    return config


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["sites"][1].pop("origins"), "sites[1] (mixvoip.org).origins: Field required"),
        (
            lambda c: c["sites"][0].update(colour="red"),
            "sites[0] (mixvoip.com).colour: unknown key",
        ),
        (
            lambda c: c["sites"][2]["partners"].append("tiktok"),
            "sites[2] (voxbi.team).partners[2]: unknown partner 'tiktok'",
        ),
        (lambda c: c["sites"][0].update(origins=[]), "sites[0] (mixvoip.com).origins"),
        (
            lambda c: c["sites"][3].update(default_language="nl", languages=["en"]),
            "sites[3] (voxbi.com).default_language",
        ),
        (
            lambda c: c["partners"][0].update(category="analytics"),
            "partners[0] (google-ads).category: unknown category 'analytics'",
        ),
        (lambda c: c["durations"].update(refusal_months="six"), "durations.refusal_months"),
        (lambda c: c.pop("controller"), "controller: Field required"),
        (
            lambda c: c["sites"].append(dict(c["sites"][0])),
            "sites[4].id: 'mixvoip.com' is defined twice",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_field(tmp_path, mutate, expected):
    path = write(tmp_path, _break(mutate))
    with pytest.raises(SitesFileError) as raised:
        load_sites(path)
    assert str(path) in str(raised.value)
    assert expected in str(raised.value)


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "sites: [a\n  b: c\n")
    with pytest.raises(SitesFileError, match=r"not valid YAML: line 2"):
        load_sites(path)


def test_a_missing_file_says_which(tmp_path):
    with pytest.raises(SitesFileError, match="file not found"):
        load_sites(tmp_path / "nope.yaml")


def test_consent_sites_file_points_the_app_at_another_file(tmp_path, database_url):
    config = shipped()
    config["sites"] = [config["sites"][2]]
    path = write(tmp_path, config)
    app = create_app(
        {
            "CONSENT_SITES_FILE": str(path),
            "DATABASE_URL": database_url,
            "CONSENT_INSTANCE_PATH": str(tmp_path / "i"),
            "SECRET_KEY": "x",
        }
    )
    try:
        client = app.test_client()
        assert client.get("/v1/sites/voxbi.team/config").status_code == 200
        assert client.get("/v1/sites/mixvoip.com/config").status_code == 404
    finally:
        app.extensions["consent"].ledger.close()


def test_the_app_does_not_start_on_a_bad_file(tmp_path):
    path = write(tmp_path, _break(lambda c: c["sites"][1].pop("origins")))
    with pytest.raises(ConfigurationError):
        create_app({"CONSENT_SITES_FILE": str(path), "CONSENT_INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize(
    "command", [["consent", "upgrade"], ["flask", "--app", "consent", "routes"]]
)
def test_the_command_line_prints_one_message_not_a_traceback(tmp_path, command):
    path = write(tmp_path, _break(lambda c: c["sites"][2]["partners"].append("tiktok")))
    env = {**os.environ, "CONSENT_SITES_FILE": str(path), "CONSENT_INSTANCE_PATH": str(tmp_path)}
    executable = str(Path(sys.executable).parent / command[0])
    result = subprocess.run([executable, *command[1:]], env=env, capture_output=True, text=True)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr
    assert "sites[2] (voxbi.team).partners[2]: unknown partner 'tiktok'" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(CONSENT_ENV="production", CONSENT_INSTANCE_PATH=str(tmp_path))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "consent"), "upgrade"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_outside_production_a_secret_key_is_generated_once_and_kept(tmp_path):
    from consent.settings import load_settings

    env = {"CONSENT_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": ""}
    first = load_settings(env).secret_key
    assert len(first) == 64
    assert load_settings(env).secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
