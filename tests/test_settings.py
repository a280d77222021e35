"""One settings object from QA_* variables; a wrong value stops start-up with a clear message."""

import pytest

from qa.errors import ConfigError
from qa.settings import Settings


def test_values_come_from_qa_variables_with_their_types():
    settings = Settings.from_env({"QA_TOP_K": "5", "QA_CHROMA_TIMEOUT_S": "2.5",
                                  "QA_CHROMA_HOST": "db", "QA_CHROMA_PORT": "8001"})
    assert (settings.top_k, settings.chroma_timeout_s) == (5, 2.5)
    assert settings.uses_chroma_server


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"QA_TOP_K": "many"}, "QA_TOP_K must be a number"),
        ({"QA_CHROMA_TIMEOUT_S": "0"}, "QA_CHROMA_TIMEOUT_S must be a positive"),
        ({"QA_CHROMA_HOST": "db"}, "set both QA_CHROMA_HOST and QA_CHROMA_PORT"),
        ({"QA_EMBED_PRECISION": "int4"}, "QA_EMBED_PRECISION must be one of"),
    ],
)
def test_a_wrong_value_is_a_config_error_that_names_the_variable(environ, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ)
