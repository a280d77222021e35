"""One settings object from QA_* variables; a wrong value stops start-up with a clear message."""

import pytest
from pydantic import Field

from qa.errors import ConfigError
from qa.settings import ANSWER_MODELS, Settings


def test_values_come_from_qa_variables_with_their_types():
    settings = Settings.from_env({"QA_TOP_K": "5", "QA_CHROMA_TIMEOUT_S": "2.5",
                                  "QA_CHROMA_HOST": "db", "QA_CHROMA_PORT": "8001",
                                  "QA_DATA_DIR": ""})
    assert (settings.top_k, settings.chroma_timeout_s) == (5, 2.5)
    assert settings.uses_chroma_server
    assert str(settings.data_dir) == "data"  # empty means unset


def test_only_from_env_reads_the_environment(monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "7")
    assert Settings().top_k == 8  # tests and benchmarks are not changed by the shell
    assert Settings.from_env().top_k == 7
    assert Settings.from_env(top_k=3).top_k == 3  # keyword overrides win


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"QA_TOP_K": "many"}, "QA_TOP_K: Input should be a valid integer"),
        ({"QA_CHROMA_TIMEOUT_S": "0"}, "QA_CHROMA_TIMEOUT_S: Input should be greater than 0"),
        ({"QA_CHROMA_HOST": "db"}, "set both QA_CHROMA_HOST and QA_CHROMA_PORT"),
        ({"QA_EMBED_PRECISION": "int4"},
         "QA_EMBED_PRECISION: Input should be 'auto', 'fp32' or 'bf16' \\(got 'int4'\\)"),
        ({"QA_UNVERIFIED": "keep"}, "QA_UNVERIFIED: Input should be 'drop' or 'flag'"),
        ({"QA_ANSWER_MODEL": "gpt-4"},
         "QA_ANSWER_MODEL: 'gpt-4' is not one of " + ", ".join(ANSWER_MODELS)),
        ({"QA_PORT": "70000"}, "QA_PORT: Input should be less than or equal to 65535"),
    ],
)
def test_a_wrong_value_is_a_config_error_that_names_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)


def test_several_wrong_values_are_all_named_and_secrets_never_echoed():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"QA_TOP_K": "x", "QA_PORT": "y", "QA_API_KEY": "",
                           "QA_THREADS": "0"})
    assert "QA_TOP_K" in caught.value.message and "QA_PORT" in caught.value.message
    with pytest.raises(ConfigError) as caught:
        Settings(api_key=["sk-secret"])
    assert "QA_API_KEY" in caught.value.message and "sk-secret" not in caught.value.message


def test_booleans_parse_as_people_write_them():
    class WithFlag(Settings):  # the mechanism every boolean setting gets
        flag: bool = Field(False, description="a flag")

    for raw, value in (("true", True), ("1", True), ("yes", True), ("on", True),
                       ("false", False), ("0", False), ("no", False), ("off", False)):
        assert WithFlag.from_env({"QA_FLAG": raw}).flag is value
    with pytest.raises(ConfigError, match="QA_FLAG: Input should be a valid boolean"):
        WithFlag.from_env({"QA_FLAG": "maybe"})


def test_allowed_hosts_are_a_comma_list_defaulting_to_loopback_and_the_bind_host():
    assert Settings.from_env({"QA_ALLOWED_HOSTS": "news.example, .example.org"}
                             ).trusted_hosts == ("news.example", ".example.org")
    assert Settings().trusted_hosts == ("localhost", "127.0.0.1", "[::1]")
    assert Settings(host="10.0.0.5").trusted_hosts[-1] == "10.0.0.5"
    assert "0.0.0.0" not in Settings(host="0.0.0.0").trusted_hosts


def test_replace_validates_like_construction():
    assert Settings().replace(top_k=3).top_k == 3
    with pytest.raises(ConfigError, match="QA_TOP_K"):
        Settings().replace(top_k=0)


def test_every_setting_is_described():
    for name, field in Settings.model_fields.items():
        assert field.description, name
