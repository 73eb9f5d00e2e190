"""Settings: defaults < TOML file < environment < CLI, frozen, validated, secrets masked."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from voice_agent.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]      # this checkout, not another install


def test_defaults_are_frozen(tmp_path):
    s = load_settings(env={}, cwd=tmp_path)
    assert isinstance(s, Settings)
    assert s.fee_cents("card") == 250
    with pytest.raises(TypeError):
        s.data["fees"]["card"] = 1  # read-only mapping
    with pytest.raises(AttributeError):
        s.data = {}


def test_layers_override_in_order(tmp_path):
    (tmp_path / "voice-agent.toml").write_text(
        'company_name = "File Co"\ndatabase = "file.db"\n[fees]\ncard = 300\n')
    s = load_settings(env={}, cwd=tmp_path)
    assert (s.company_name, s.fee_cents("card"), str(s.database)) == ("File Co", 300, "file.db")
    env = {"VOICE_AGENT_FEES__CARD": "400", "VOICE_AGENT_DB": "env.db"}
    s = load_settings(env=env, cwd=tmp_path)
    assert (s.fee_cents("card"), str(s.database)) == (400, "env.db")
    s = load_settings(env=env, cwd=tmp_path, cli={"database": "cli.db"}, sets=["fees.card=500"])
    assert (s.fee_cents("card"), str(s.database)) == (500, "cli.db")
    assert s.company_name == "File Co"


def test_explicit_config_and_env_config(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('default_language = "es"\n')
    assert load_settings(config=other, env={}, cwd=tmp_path).default_language == "es"
    env = {"VOICE_AGENT_CONFIG": str(other)}
    assert load_settings(env=env, cwd=tmp_path).default_language == "es"
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(config=tmp_path / "missing.toml", env={}, cwd=tmp_path)


def test_lists_from_environment(tmp_path):
    s = load_settings(env={"VOICE_AGENT_LANGUAGES": "en,ko"}, cwd=tmp_path)
    assert s.languages == ("en", "ko")
    s = load_settings(env={"VOICE_AGENT_LANGUAGES": '["ko", "en"]',
                           "VOICE_AGENT_DEFAULT_LANGUAGE": "ko"}, cwd=tmp_path)
    assert s.languages == ("ko", "en") and s.default_language == "ko"


@pytest.mark.parametrize("text, message", [
    ("nonsense = 1\n", "unknown setting nonsense"),
    ("[fees]\ncard = -1\n", "fees.card"),
    ('default_language = "fr"\n', "default_language"),
    ("[payment_limits]\nmin_cents = 500\nmax_cents = 100\n", "payment_limits"),
    ("this is not toml", "not valid TOML"),
])
def test_bad_settings_are_named(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(config=path, env={}, cwd=tmp_path)


def test_new_language_and_method_can_be_added(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('languages = ["en", "fr"]\n[voices]\nfr = "fr-fr"\n[fees]\ncash = 0\n')
    s = load_settings(config=path, env={}, cwd=tmp_path)
    assert s["voices"]["fr"] == "fr-fr" and s.fee_cents("cash") == 0


def test_secret_files_live_beside_the_database(tmp_path):
    s = load_settings(env={}, cwd=tmp_path, cli={"database": str(tmp_path / "a.db")})
    assert s.vault_key_path == tmp_path / "a.db.vault-key"
    assert s.pepper_path == tmp_path / "a.db.pepper"
    assert s.audit_checkpoint_path == tmp_path / "a.db.audit-checkpoint"


def test_config_show_cli(tmp_path):
    out = subprocess.run([sys.executable, "-m", "voice_agent", "config", "show", "--db", "x.db",
                          "--set", "fees.bank=25"], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin"}, check=True).stdout
    data = json.loads(out.split("\n# sources")[0])
    assert data["database"] == "x.db" and data["fees"]["bank"] == 25


def test_config_show_names_each_language_facts(tmp_path):
    # `locales` and `voices` hold overrides only; show prints what each language really uses.
    out = subprocess.run([sys.executable, "-m", "voice_agent", "config", "show",
                          "--set", "voices.es=es"], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert "# en English: babel locale en_US, voice en-us" in out
    assert "# es Español: babel locale es_US, voice es" in out


def test_a_retired_setting_is_ignored_with_a_warning(tmp_path, caplog):
    """audio.short_answers moved into voice_agent/expect.py: old files still load."""
    config = tmp_path / "voice-agent.toml"
    config.write_text('[audio]\nshort_answers = ["confirm"]\nend_silence_short_ms = 400\n')
    with caplog.at_level("WARNING", logger="voice_agent"):
        settings = load_settings(config=config, env={})
    assert settings["audio"]["end_silence_short_ms"] == 400
    assert "short_answers" not in settings["audio"]
    assert "audio.short_answers is ignored" in caplog.text and "expect.py" in caplog.text


@pytest.mark.parametrize("text, message", [
    ("database = 5\n", "database must be text, got 5"),
    ('[payment_limits]\nmax_per_day_cents = "lots"\n',
     "payment_limits.max_per_day_cents must be a whole number, got 'lots'"),
    ('languages = "en"\n', "languages must be a list, got 'en'"),
    ('[arrangements]\nenabled = "no"\n', "arrangements.enabled must be true or false, got 'no'"),
    ("[fees]\ncash = 1.5\n", "fees.cash must be a whole number"),
    ("speech_rate = 5\n", "speech_rate must be between 80 and 450, got 5"),
    ("[audio]\nconfidence_accept = 1.5\n", "audio.confidence_accept must be between 0 and 1"),
    ("[audio]\nconfidence_accept = 0.4\n", "confidence_confirm <= confidence_accept"),
    ("[lockout]\nmax_failures = true\n", "lockout.max_failures must be a whole number, got True"),
    ("lockout = 3\n", "lockout must be a table, got 3"),
    ('[[payment_options]]\nfee_cents = 0\n', "payment_options[0].key is missing"),
    ('[[payment_options]]\nkey = "kiosk"\nfee_cents = -5\n',
     "payment_options[0].fee_cents must be at least 0"),
    ("[password_hash]\nn = 1000\n", "password_hash.n must be a power of two"),
    ('timezone = "Mars/Olympus"\n', "timezone must be a time zone name"),
    ('currency = "dollars"\n', "currency must be a three-letter"),
    ("max_utterance_chars = 5\n", "max_utterance_chars must be between 20 and 10000"),
    ('umask = "777"\n', "umask must be octal text"),
])
def test_every_setting_is_type_and_range_checked_naming_key_and_file(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(config=path, env={}, cwd=tmp_path)
    assert message in str(caught.value)
    assert f"(from settings file {path})" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_environment_and_set_values_are_checked_and_named(tmp_path):
    env = {"VOICE_AGENT_PAYMENT_LIMITS__MAX_PER_DAY_CENTS": "lots"}
    with pytest.raises(SettingsError, match="max_per_day_cents .*from environment variable"
                                            " VOICE_AGENT_PAYMENT_LIMITS__MAX_PER_DAY_CENTS"):
        load_settings(env=env, cwd=tmp_path)
    with pytest.raises(SettingsError, match=r"arrangements.enabled must be true or false, got"
                                            r" 'maybe' \(from --set arrangements.enabled\)"):
        load_settings(env={}, cwd=tmp_path, sets=["arrangements.enabled=maybe"])
    # Words for true and false still work from the environment and --set.
    s = load_settings(env={"VOICE_AGENT_ARRANGEMENTS__ENABLED": "no"}, cwd=tmp_path)
    assert s["arrangements"]["enabled"] is False
    assert load_settings(env={}, cwd=tmp_path, sets=["arrangements.enabled=on"])[
        "arrangements"]["enabled"] is True
    with pytest.raises(SettingsError, match=r"database must be text, got 5 \(from overrides\)"):
        s.with_overrides(database=5)


def test_a_bad_setting_is_one_line_on_the_command_line(tmp_path):
    (tmp_path / "voice-agent.toml").write_text("database = 5\n")
    done = subprocess.run([sys.executable, "-m", "voice_agent", "payments", "list"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("voice-agent: settings: database must be text, got 5 (from settings"
                           " file " + str(tmp_path / "voice-agent.toml") + ")\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice-agent.toml"]
