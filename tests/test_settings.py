import pytest

from crosswalk.errors import ConfigError
from crosswalk.settings import load_settings, settings_record


def test_precedence_flag_env_toml_default(tmp_path):
    toml = tmp_path / "crosswalk.toml"
    toml.write_text('candidates_k = 7\nllm_model = "from-toml"\nmax_concurrency = 3\n')
    env = {"CROSSWALK_CANDIDATES_K": "9", "CROSSWALK_LLM_MODEL": "from-env"}
    s = load_settings({"candidates_k": 11}, env=env, config_path=toml)
    assert s.candidates_k == 11            # flag beats env
    assert s.llm_model == "from-env"       # env beats toml
    assert s.max_concurrency == 3          # toml beats default
    assert s.verifier == "local"           # default


def test_a_settings_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    toml = tmp_path / "crosswalk.toml"
    toml.write_text("[crosswalk]\ncandidates_k = 7\n", encoding="utf-8-sig")  # as Notepad saves it
    assert load_settings(env={}, config_path=toml).candidates_k == 7


def test_bad_value_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="candidates_k"):
        load_settings({"candidates_k": 0}, env={}, config_path=tmp_path / "none.toml")


def test_saved_settings_hold_no_key(tmp_path):
    env = {"OPENAI_API_KEY": "sk-secret-123"}
    record = settings_record(load_settings(env=env, config_path=tmp_path / "none.toml"))
    assert "sk-secret-123" not in str(record)
    assert record["api_key_env"] == "OPENAI_API_KEY"
