"""Settings from the environment: defaults, parsing, and refusals with messages that name the variable."""

from pathlib import Path

import pytest

from entrypoints.config import ConfigError, Settings


def test_defaults_when_nothing_is_set():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.elasticsearch_url is None
    assert settings.es_index == "esauth-users"
    assert settings.data_dir == Path("var")
    assert settings.cookie_secure is True
    assert settings.secret_keys == ()
    assert (settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism) == (2, 19456, 1)
    assert settings.hash_workers == 0  # one per available core


def test_every_variable_is_read():
    key_a, key_b = "a" * 32, "b" * 40
    settings = Settings.from_env(
        {
            "ESAUTH_ELASTICSEARCH_URL": "http://es:9200",
            "ESAUTH_ES_INDEX": "people",
            "ESAUTH_DATA_DIR": "/srv/esauth",
            "ESAUTH_SECRET_KEY": f" {key_a} , {key_b} ",
            "ESAUTH_COOKIE_SECURE": "off",
            "ESAUTH_ARGON2_TIME_COST": "3",
            "ESAUTH_ARGON2_MEMORY_KIB": "65536",
            "ESAUTH_ARGON2_PARALLELISM": "2",
            "ESAUTH_HASH_WORKERS": "3",
            "ESAUTH_SESSION_IDLE_TIMEOUT": "600",
            "ESAUTH_SESSION_ABSOLUTE_LIFETIME": "3600",
            "ESAUTH_SESSION_CHECK_CACHE_MS": "0",
            "ESAUTH_LOGIN_FREE_FAILURES": "3",
            "ESAUTH_LOGIN_BASE_DELAY": "2",
            "ESAUTH_LOGIN_MAX_DELAY": "600",
            "ESAUTH_CLIENT_REQUESTS_PER_MINUTE": "10",
            "ESAUTH_TRUSTED_PROXIES": "2",
            "ESAUTH_ALLOWED_ORIGINS": "https://App.example.com/, http://localhost:3000",
        }
    )
    assert settings == Settings(
        elasticsearch_url="http://es:9200",
        es_index="people",
        data_dir=Path("/srv/esauth"),
        secret_keys=(key_a, key_b),
        cookie_secure=False,
        argon2_time_cost=3,
        argon2_memory_kib=65536,
        argon2_parallelism=2,
        hash_workers=3,
        session_idle_timeout_s=600,
        session_absolute_lifetime_s=3600,
        session_check_cache_ms=0,
        login_free_failures=3,
        login_base_delay_s=2,
        login_max_delay_s=600,
        client_requests_per_minute=10,
        trusted_proxies=2,
        allowed_origins=("https://app.example.com", "http://localhost:3000"),
    )


@pytest.mark.parametrize(
    "environ, names",
    [
        ({"ESAUTH_SECRET_KEY": "short"}, "ESAUTH_SECRET_KEY"),
        ({"ESAUTH_SECRET_KEY": "a" * 32 + ",tiny"}, "ESAUTH_SECRET_KEY"),
        ({"ESAUTH_COOKIE_SECURE": "maybe"}, "ESAUTH_COOKIE_SECURE"),
        ({"ESAUTH_ARGON2_TIME_COST": "two"}, "ESAUTH_ARGON2_TIME_COST"),
        ({"ESAUTH_HASH_WORKERS": "65"}, "ESAUTH_HASH_WORKERS"),
        ({"ESAUTH_SESSION_IDLE_TIMEOUT": "-5"}, "ESAUTH_SESSION_IDLE_TIMEOUT"),
        ({"ESAUTH_SESSION_CHECK_CACHE_MS": "1501"}, "ESAUTH_SESSION_CHECK_CACHE_MS"),
        ({"ESAUTH_LOGIN_FREE_FAILURES": "101"}, "ESAUTH_LOGIN_FREE_FAILURES"),
        ({"ESAUTH_TRUSTED_PROXIES": "-1"}, "ESAUTH_TRUSTED_PROXIES"),
        ({"ESAUTH_ALLOWED_ORIGINS": "app.example.com"}, "ESAUTH_ALLOWED_ORIGINS"),
        ({"ESAUTH_ALLOWED_ORIGINS": "https://app.example.com/path"}, "ESAUTH_ALLOWED_ORIGINS"),
    ],
)
def test_malformed_settings_are_refused_by_name(environ, names):
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("http://es.example.com", "http://es.example.com:80"),
        ("https://es.example.com/", "https://es.example.com:443/"),
        ("https://user:pw@es.example.com", "https://user:pw@es.example.com:443"),
        ("http://[::1]", "http://[::1]:80"),
        ("http://es:9200", "http://es:9200"),
    ],
)
def test_a_search_engine_url_without_a_port_gets_the_schemes_default(raw, url):
    assert Settings.from_env({"ESAUTH_ELASTICSEARCH_URL": raw}).elasticsearch_url == url


def test_a_search_engine_url_with_a_bad_port_is_refused_by_name():
    with pytest.raises(ConfigError, match="ESAUTH_ELASTICSEARCH_URL: the port"):
        Settings.from_env({"ESAUTH_ELASTICSEARCH_URL": "http://es:ninety"})


def test_the_engine_is_auto_unless_forced():
    assert Settings.from_env({}).es_engine == "auto"
    assert Settings.from_env({"ESAUTH_ES_ENGINE": " OpenSearch "}).es_engine == "opensearch"
    with pytest.raises(ConfigError, match="ESAUTH_ES_ENGINE: expected one of auto, elasticsearch, opensearch"):
        Settings.from_env({"ESAUTH_ES_ENGINE": "solr"})


@pytest.mark.parametrize(
    ("root", "engine"),
    [
        ({"version": {"distribution": "opensearch", "number": "2.19.1"}}, "opensearch"),
        ({"version": {"number": "8.15.0", "build_flavor": "default"}}, "elasticsearch"),
        ({"version": {"number": "1.7.5"}}, "elasticsearch"),
        ({}, "elasticsearch"),
    ],
)
def test_the_engine_is_read_from_the_root_answer(root, engine):
    from infrastructure.search_engine.client import engine_of

    assert engine_of(root) == engine


def test_several_nodes_of_one_cluster_may_be_listed():
    settings = Settings.from_env({"ESAUTH_ELASTICSEARCH_URL": "http://a:9200, http://b ,"})
    assert settings.elasticsearch_url == "http://a:9200,http://b:80"
    with pytest.raises(ConfigError, match="ESAUTH_ELASTICSEARCH_URL"):
        Settings.from_env({"ESAUTH_ELASTICSEARCH_URL": "http://a:9200,b:9200"})
