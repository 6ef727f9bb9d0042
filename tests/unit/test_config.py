"""Settings from the environment: defaults, parsing, and refusals with messages that name the variable."""

import base64
import ipaddress
import re
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
    assert settings.workers == 0  # one per available core
    assert (settings.log_format, settings.access_log) == ("text", False)
    assert [str(net) for net in settings.metrics_allow] == ["127.0.0.0/8", "::1/128"]  # loopback only
    assert settings.ready_hash_queue == 0  # 4 per hashing worker
    assert (settings.device_cookie_days, settings.device_failures, settings.device_lockout_s) == (365, 10, 3600)
    assert (settings.sudo_max_age_s, settings.mfa_pending_ttl_s) == (900, 300)
    assert (settings.totp_keys, settings.totp_issuer) == ((), "esauth")  # sealed with the signing keys


def test_every_variable_is_read():
    key_a, key_b = "a" * 32, "b" * 40
    settings = Settings.from_env(
        {
            "ESAUTH_ELASTICSEARCH_URL": "http://es:9200",
            "ESAUTH_ES_INDEX": "people",
            "ESAUTH_DATA_DIR": "/srv/esauth",
            "ESAUTH_SECRET_KEY": f" {key_a} , {key_b} ",
            "ESAUTH_COOKIE_SECURE": "off",
            "ESAUTH_COOKIE_DOMAIN": ".Example.COM",
            "ESAUTH_ARGON2_TIME_COST": "3",
            "ESAUTH_ARGON2_MEMORY_KIB": "65536",
            "ESAUTH_ARGON2_PARALLELISM": "2",
            "ESAUTH_HASH_WORKERS": "3",
            "ESAUTH_WORKERS": "4",
            "ESAUTH_SESSION_IDLE_TIMEOUT": "600",
            "ESAUTH_SESSION_ABSOLUTE_LIFETIME": "3600",
            "ESAUTH_SESSION_CHECK_CACHE_MS": "0",
            "ESAUTH_SESSION_VIEW_ENTRIES": "500",
            "ESAUTH_LOGIN_FREE_FAILURES": "3",
            "ESAUTH_LOGIN_BASE_DELAY": "2",
            "ESAUTH_LOGIN_MAX_DELAY": "600",
            "ESAUTH_DEVICE_COOKIE_DAYS": "30",
            "ESAUTH_DEVICE_FAILURES": "4",
            "ESAUTH_DEVICE_LOCKOUT": "600",
            "ESAUTH_CLIENT_REQUESTS_PER_MINUTE": "10",
            "ESAUTH_TRUSTED_PROXIES": "2",
            "ESAUTH_ALLOWED_ORIGINS": "https://App.example.com/, http://localhost:3000",
            "ESAUTH_LOG_FORMAT": "JSON",
            "ESAUTH_ACCESS_LOG": "true",
            "ESAUTH_METRICS_ALLOW": "10.1.2.3, 192.168.0.0/16,fd00::/8",
            "ESAUTH_READY_HASH_QUEUE": "12",
        }
    )
    assert settings == Settings(
        elasticsearch_url="http://es:9200",
        es_index="people",
        data_dir=Path("/srv/esauth"),
        secret_keys=(key_a, key_b),
        cookie_secure=False,
        cookie_domain="example.com",
        argon2_time_cost=3,
        argon2_memory_kib=65536,
        argon2_parallelism=2,
        hash_workers=3,
        workers=4,
        session_idle_timeout_s=600,
        session_absolute_lifetime_s=3600,
        session_check_cache_ms=0,
        session_view_entries=500,
        login_free_failures=3,
        login_base_delay_s=2,
        login_max_delay_s=600,
        device_cookie_days=30,
        device_failures=4,
        device_lockout_s=600,
        client_requests_per_minute=10,
        trusted_proxies=2,
        allowed_origins=("https://app.example.com", "http://localhost:3000"),
        log_format="json",
        access_log=True,
        metrics_allow=tuple(map(ipaddress.ip_network, ("10.1.2.3/32", "192.168.0.0/16", "fd00::/8"))),
        ready_hash_queue=12,
    )


def test_metrics_can_be_allowed_to_nobody():
    assert Settings.from_env({"ESAUTH_METRICS_ALLOW": "none"}).metrics_allow == ()


@pytest.mark.parametrize(
    "environ, names",
    [
        ({"ESAUTH_SECRET_KEY": "short"}, "ESAUTH_SECRET_KEY"),
        ({"ESAUTH_SECRET_KEY": "a" * 32 + ",tiny"}, "ESAUTH_SECRET_KEY"),
        ({"ESAUTH_COOKIE_SECURE": "maybe"}, "ESAUTH_COOKIE_SECURE"),
        ({"ESAUTH_ARGON2_TIME_COST": "two"}, "ESAUTH_ARGON2_TIME_COST"),
        ({"ESAUTH_HASH_WORKERS": "65"}, "ESAUTH_HASH_WORKERS"),
        ({"ESAUTH_WORKERS": "65"}, "ESAUTH_WORKERS"),
        ({"ESAUTH_WORKERS": "-1"}, "ESAUTH_WORKERS"),
        ({"ESAUTH_SESSION_IDLE_TIMEOUT": "-5"}, "ESAUTH_SESSION_IDLE_TIMEOUT"),
        ({"ESAUTH_SESSION_CHECK_CACHE_MS": "2001"}, "ESAUTH_SESSION_CHECK_CACHE_MS"),
        ({"ESAUTH_SESSION_VIEW_ENTRIES": "-1"}, "ESAUTH_SESSION_VIEW_ENTRIES"),
        ({"ESAUTH_LOGIN_FREE_FAILURES": "101"}, "ESAUTH_LOGIN_FREE_FAILURES"),
        ({"ESAUTH_DEVICE_COOKIE_DAYS": "731"}, "ESAUTH_DEVICE_COOKIE_DAYS"),
        ({"ESAUTH_DEVICE_FAILURES": "0"}, "ESAUTH_DEVICE_FAILURES"),
        ({"ESAUTH_DEVICE_LOCKOUT": "86401"}, "ESAUTH_DEVICE_LOCKOUT"),
        ({"ESAUTH_DEVICE_LOCKOUT": "59"}, "ESAUTH_DEVICE_LOCKOUT"),
        ({"ESAUTH_TRUSTED_PROXIES": "-1"}, "ESAUTH_TRUSTED_PROXIES"),
        ({"ESAUTH_ALLOWED_ORIGINS": "app.example.com"}, "ESAUTH_ALLOWED_ORIGINS"),
        ({"ESAUTH_COOKIE_DOMAIN": "localhost"}, "ESAUTH_COOKIE_DOMAIN"),
        ({"ESAUTH_COOKIE_DOMAIN": "https://example.com"}, "ESAUTH_COOKIE_DOMAIN"),
        ({"ESAUTH_COOKIE_DOMAIN": "exa mple.com"}, "ESAUTH_COOKIE_DOMAIN"),
        ({"ESAUTH_COOKIE_DOMAIN": "."}, "ESAUTH_COOKIE_DOMAIN"),
        ({"ESAUTH_ALLOWED_ORIGINS": "https://app.example.com/path"}, "ESAUTH_ALLOWED_ORIGINS"),
        ({"ESAUTH_PUBLIC_URL": "https://auth.example.com/esauth"}, "ESAUTH_PUBLIC_URL"),
        ({"ESAUTH_PUBLIC_URL": "auth.example.com"}, "ESAUTH_PUBLIC_URL"),
        ({"ESAUTH_LOG_FORMAT": "xml"}, "ESAUTH_LOG_FORMAT"),
        ({"ESAUTH_ACCESS_LOG": "sometimes"}, "ESAUTH_ACCESS_LOG"),
        ({"ESAUTH_METRICS_ALLOW": "127.0.0.1,localhost"}, "ESAUTH_METRICS_ALLOW"),
        ({"ESAUTH_READY_HASH_QUEUE": "-1"}, "ESAUTH_READY_HASH_QUEUE"),
        ({"ESAUTH_SUDO_MAX_AGE": "59"}, "ESAUTH_SUDO_MAX_AGE: must be between 60 and 86400"),
        ({"ESAUTH_MFA_PENDING_TTL": "1801"}, "ESAUTH_MFA_PENDING_TTL"),
        ({"ESAUTH_TOTP_KEYS": "short"}, "ESAUTH_TOTP_KEYS: every key must be at least 32"),
        ({"ESAUTH_TOTP_ISSUER": "Acme: Inc"}, "ESAUTH_TOTP_ISSUER"),
    ],
)
def test_malformed_settings_are_refused_by_name(environ, names):
    with pytest.raises(ConfigError, match=names):
        Settings.from_env(environ)


@pytest.mark.parametrize("suffix", ["com", ".COM", "co.uk", "github.io", "appspot.com", "foo.ck", "xn--p1ai"])
def test_a_public_suffix_is_refused_as_cookie_domain_in_one_clear_line(suffix):
    """ICANN suffixes, private ones (github.io) and wildcard rules (*.ck) alike."""
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"ESAUTH_COOKIE_DOMAIN": suffix})
    message = str(refused.value)
    assert message.startswith(f"ESAUTH_COOKIE_DOMAIN: '{suffix.lower().lstrip('.')}' is a public suffix")
    assert "\n" not in message


@pytest.mark.parametrize("domain", ["example.com", "example.co.uk", "me.github.io", "www.ck", "example.xn--p1ai"])
def test_a_registrable_domain_is_taken_as_cookie_domain(domain):
    assert Settings.from_env({"ESAUTH_COOKIE_DOMAIN": domain}).cookie_domain == domain


def test_the_reset_link_defaults_to_the_hosted_page_once_the_public_origin_is_known():
    assert Settings.from_env({}).reset_url is None
    public = Settings.from_env({"ESAUTH_PUBLIC_URL": "https://Auth.Example.com:443/"})
    assert public.public_url == "https://auth.example.com"
    assert public.reset_url == "https://auth.example.com/ui/reset/confirm"
    explicit = {"ESAUTH_PUBLIC_URL": "https://auth.example.com", "ESAUTH_RESET_URL": "https://app.example.com/reset"}
    assert Settings.from_env(explicit).reset_url == "https://app.example.com/reset"


def test_an_idle_timeout_under_a_minute_is_refused_by_name():
    with pytest.raises(ConfigError, match="ESAUTH_SESSION_IDLE_TIMEOUT: must be at least 60, got 59"):
        Settings.from_env({"ESAUTH_SESSION_IDLE_TIMEOUT": "59"})
    assert Settings.from_env({"ESAUTH_SESSION_IDLE_TIMEOUT": "60"}).session_idle_timeout_s == 60


def test_an_idle_timeout_longer_than_the_absolute_lifetime_is_refused():
    with pytest.raises(ConfigError, match="ESAUTH_SESSION_IDLE_TIMEOUT must not exceed ESAUTH_SESSION_ABSOLUTE_LIFETIME"):
        Settings.from_env({"ESAUTH_SESSION_IDLE_TIMEOUT": "7200", "ESAUTH_SESSION_ABSOLUTE_LIFETIME": "3600"})
    equal = Settings.from_env({"ESAUTH_SESSION_IDLE_TIMEOUT": "3600", "ESAUTH_SESSION_ABSOLUTE_LIFETIME": "3600"})
    assert equal.session_idle_timeout_s == equal.session_absolute_lifetime_s == 3600


@pytest.mark.parametrize(
    "name, suggestion",
    [
        ("ESAUTH_SESSION_IDLE_TIMOUT", "did you mean ESAUTH_SESSION_IDLE_TIMEOUT?"),
        ("ESAUTH_SECRETKEY", "did you mean ESAUTH_SECRET_KEY?"),
        ("ESAUTH_COOKIES_SECURE", "did you mean ESAUTH_COOKIE_SECURE?"),
        ("ESAUTH_LOGLEVEL", "did you mean ESAUTH_LOG_LEVEL?"),
        ("ESAUTH_FROBNICATE", "see Configuration in README.md"),
    ],
)
def test_an_esauth_variable_nothing_reads_is_refused_with_the_closest_name(name, suggestion):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: "s3cr3t-value", "HOME": "/root", "ESAUTHX": "not ours"})
    assert str(refused.value) == f"{name}: esauth has no such setting; {suggestion}"
    assert "s3cr3t-value" not in str(refused.value)  # the value may be a secret


def test_the_known_names_are_the_names_read_so_every_documented_setting_is_accepted():
    """No list to keep up to date: a name is known because from_env reads it. Every variable of
    the README's configuration table is accepted (read), and the table names them all."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(ESAUTH_[A-Z0-9_]+)`", table))
    assert len(documented) > 20
    Settings.from_env({name: "" for name in documented})  # empty means the default: nothing refused

    import entrypoints.config as config

    noted = config._NotedReads({})
    config.Settings._read(noted)
    assert noted.asked == documented


@pytest.mark.parametrize(
    "name, raw",
    [
        ("ESAUTH_ELASTICSEARCH_URL", "elastic:s3cret-pass@es.internal:9200"),  # the scheme forgotten
        ("ESAUTH_ELASTICSEARCH_URL", "ftp://elastic:s3cret-pass@es.internal:9200"),
        ("ESAUTH_ELASTICSEARCH_URL", "https://elastic:s3cret-pass@"),
        ("ESAUTH_RESET_URL", "//ops:s3cret-pass@app.example.com/reset"),
    ],
)
def test_a_refused_url_is_named_without_the_password_it_carries(name, raw):
    """A URL may hold credentials (user:password@host); the one-line error goes to the terminal
    and the service journal, which must never hold a secret."""
    with pytest.raises(ConfigError, match=name) as refused:
        Settings.from_env({name: raw})
    assert "s3cret-pass" not in str(refused.value)
    assert "***@" in str(refused.value)  # still says which value was refused, and that it had credentials


def test_the_secrets_settings_hold_never_show_in_their_repr():
    """Settings travel into every worker and through tracebacks and debuggers; a repr is what
    ends up in a log when something prints them."""
    settings = Settings.from_env(
        {"ESAUTH_SECRET_KEY": "k3y-" + "x" * 40, "ESAUTH_TOTP_KEYS": "k3y-" + "t" * 40, "ESAUTH_SMTP_HOST": "mail", "ESAUTH_SMTP_USERNAME": "esauth",
         "ESAUTH_SMTP_PASSWORD": "smtp-s3cret", "ESAUTH_ELASTICSEARCH_URL": "https://elastic:es-s3cret@es:9200"}
    )
    assert settings.secret_keys and settings.totp_keys and settings.smtp_password == "smtp-s3cret" and settings.elasticsearch_url
    assert not {"k3y-", "smtp-s3cret", "es-s3cret"} & set(re.findall(r"k3y-|smtp-s3cret|es-s3cret", repr(settings)))


CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


FINGERPRINT = "3b7b0a" + "0" * 58


HTTPS = {"ESAUTH_ELASTICSEARCH_URL": "https://es.example.com:9200"}


CLOUD_ID = "prod:" + base64.b64encode(b"europe-west1.gcp.cloud.es.io:443$abc123$def456").decode()


def test_cluster_settings_are_read(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(CA_PEM)
    settings = Settings.from_env(
        {**HTTPS, "ESAUTH_ES_CA_CERTS": str(ca), "ESAUTH_ES_USERNAME": "esauth", "ESAUTH_ES_PASSWORD": " s3cret "}
    )
    assert (settings.es_ca_certs, settings.es_verify_certs, settings.es_ssl_fingerprint) == (ca, True, None)
    assert (settings.es_username, settings.es_password, settings.es_api_key) == ("esauth", " s3cret ", None)
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("raw", [FINGERPRINT, FINGERPRINT.upper(), ":".join(FINGERPRINT[i : i + 2] for i in range(0, 64, 2))])
def test_a_fingerprint_is_taken_as_elasticsearch_or_openssl_prints_it(raw):
    assert Settings.from_env({**HTTPS, "ESAUTH_ES_SSL_FINGERPRINT": raw}).es_ssl_fingerprint == FINGERPRINT


@pytest.mark.parametrize("raw", ["VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", "VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"])
def test_an_api_key_is_kept_in_its_encoded_form_either_way_it_is_given(raw):
    settings = Settings.from_env({**HTTPS, "ESAUTH_ES_API_KEY": raw})
    assert base64.b64decode(settings.es_api_key) == b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw"
    assert "ui2lp2" not in repr(settings)


def test_a_cloud_id_replaces_the_url():
    settings = Settings.from_env({"ESAUTH_ES_CLOUD_ID": CLOUD_ID, "ESAUTH_ES_API_KEY": "id:key"})
    assert (settings.elasticsearch_url, settings.es_cloud_id, settings.uses_search_engine) == (None, CLOUD_ID, True)
    assert not Settings.from_env({}).uses_search_engine


@pytest.mark.parametrize(
    "environ, message",
    [
        ({**HTTPS, "ESAUTH_ES_USERNAME": "esauth"}, "^ESAUTH_ES_PASSWORD: must be set with ESAUTH_ES_USERNAME"),
        ({**HTTPS, "ESAUTH_ES_PASSWORD": "pw"}, "^ESAUTH_ES_USERNAME: must be set with ESAUTH_ES_PASSWORD"),
        ({**HTTPS, "ESAUTH_ES_USERNAME": "u", "ESAUTH_ES_PASSWORD": "p", "ESAUTH_ES_API_KEY": "i:k"}, "^ESAUTH_ES_API_KEY: set it or"),
        ({**HTTPS, "ESAUTH_ES_API_KEY": "no-colon-not-base64!"}, "^ESAUTH_ES_API_KEY: expected id:api_key"),
        ({**HTTPS, "ESAUTH_ES_API_KEY": base64.b64encode(b"nocolon").decode()}, "^ESAUTH_ES_API_KEY: expected"),
        ({**HTTPS, "ESAUTH_ES_CLOUD_ID": CLOUD_ID}, "^ESAUTH_ES_CLOUD_ID: set it or ESAUTH_ELASTICSEARCH_URL, not both"),
        ({"ESAUTH_ES_CLOUD_ID": "prod:bm90LWEtY2xvdWQtaWQ="}, "^ESAUTH_ES_CLOUD_ID: expected the cloud id"),
        ({**HTTPS, "ESAUTH_ES_CA_CERTS": "/nonexistent/ca.pem"}, "^ESAUTH_ES_CA_CERTS: cannot read '/nonexistent/ca.pem'"),
        ({**HTTPS, "ESAUTH_ES_SSL_FINGERPRINT": "abc"}, "^ESAUTH_ES_SSL_FINGERPRINT: expected a SHA-256"),
        ({**HTTPS, "ESAUTH_ES_SSL_FINGERPRINT": FINGERPRINT, "ESAUTH_ES_VERIFY_CERTS": "false"}, "^ESAUTH_ES_VERIFY_CERTS: false contradicts"),
        ({**HTTPS, "ESAUTH_ES_VERIFY_CERTS": "sometimes"}, "^ESAUTH_ES_VERIFY_CERTS: expected true or false"),
        ({"ESAUTH_ELASTICSEARCH_URL": "http://es:9200", "ESAUTH_ES_SSL_FINGERPRINT": FINGERPRINT}, "^ESAUTH_ES_SSL_FINGERPRINT: applies to https"),
        ({"ESAUTH_ES_API_KEY": "id:key"}, "^ESAUTH_ES_API_KEY is set but neither ESAUTH_ELASTICSEARCH_URL nor ESAUTH_ES_CLOUD_ID"),
    ],
)
def test_cluster_settings_that_cannot_work_are_refused_by_name(environ, message):
    with pytest.raises(ConfigError, match=message) as refused:
        Settings.from_env(environ)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "environ",
    [
        {**HTTPS, "ESAUTH_ES_API_KEY": "Secret-Key-Material"},
        {**HTTPS, "ESAUTH_ES_API_KEY": "Secret-Key:Material", "ESAUTH_ES_USERNAME": "u", "ESAUTH_ES_PASSWORD": "Secret-Pw"},
        {"ESAUTH_ES_PASSWORD": "Secret-Pw", "ESAUTH_ES_USERNAME": "u"},
    ],
)
def test_a_refusal_never_repeats_a_key_or_password(environ):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ)
    assert "Secret" not in str(refused.value)


def test_a_ca_file_must_hold_a_certificate_and_not_be_second_to_a_fingerprint(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("not a certificate")
    with pytest.raises(ConfigError, match="^ESAUTH_ES_CA_CERTS: .* holds no PEM certificate"):
        Settings.from_env({**HTTPS, "ESAUTH_ES_CA_CERTS": str(ca)})
    ca.write_text(CA_PEM)
    with pytest.raises(ConfigError, match="^ESAUTH_ES_SSL_FINGERPRINT: set it or ESAUTH_ES_CA_CERTS, not both"):
        Settings.from_env({**HTTPS, "ESAUTH_ES_CA_CERTS": str(ca), "ESAUTH_ES_SSL_FINGERPRINT": FINGERPRINT})


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


@pytest.mark.parametrize(
    "environ, shown",
    [
        ({"ESAUTH_ELASTICSEARCH_URL": "http://esauth:s3cret@es:9200", "ESAUTH_ES_SSL_FINGERPRINT": FINGERPRINT},
         "'http://***@es:9200'"),
        ({"ESAUTH_ELASTICSEARCH_URL": "https://esauth:s3cret@es:port"}, "'https://***@es:port'"),
        ({"ESAUTH_ELASTICSEARCH_URL": "ftp://esauth:s3cret@es"}, "'ftp://***@es'"),
    ],
)
def test_a_refused_url_is_shown_without_its_credentials(environ, shown):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ)
    assert shown in str(refused.value) and "s3cret" not in str(refused.value) and "esauth:" not in str(refused.value)


def test_a_url_list_is_shown_without_any_credentials():
    from entrypoints.config import _without_credentials

    assert _without_credentials("https://u:p@ss@es:9200/x") == "https://***@es:9200/x"
    assert "c:d" not in _without_credentials("https://a:b@n1:9200,https://c:d@n2:9200")
    assert _without_credentials("https://es:9200") == "https://es:9200"


@pytest.mark.parametrize(
    "environ, rp_id, origins",
    [
        ({}, None, ()),  # no relying party known: passkeys off
        ({"ESAUTH_PUBLIC_URL": "https://auth.example.com"}, "auth.example.com", ("https://auth.example.com",)),
        ({"ESAUTH_PUBLIC_URL": "http://127.0.0.1:8000"}, None, ()),  # browsers refuse an address as relying party
        ({"ESAUTH_PUBLIC_URL": "http://localhost:8000"}, "localhost", ("http://localhost:8000",)),
        (
            {"ESAUTH_PUBLIC_URL": "https://auth.example.com", "ESAUTH_WEBAUTHN_RP_ID": "Example.com",
             "ESAUTH_ALLOWED_ORIGINS": "https://app.example.com,https://example.org"},
            "example.com", ("https://auth.example.com", "https://app.example.com"),
        ),
        ({"ESAUTH_WEBAUTHN_RP_ID": "example.com"}, "example.com", ("https://example.com",)),
        ({"ESAUTH_PUBLIC_URL": "https://auth.example.com", "ESAUTH_WEBAUTHN_RP_ID": "off"}, None, ()),
    ],
)
def test_the_relying_party_and_its_origins(environ, rp_id, origins):
    settings = Settings.from_env(environ)
    assert (settings.webauthn_rp_id, settings.webauthn_origins) == (rp_id, origins)


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"ESAUTH_WEBAUTHN_RP_ID": "10.0.0.1"}, "ESAUTH_WEBAUTHN_RP_ID: expected a host name"),
        ({"ESAUTH_WEBAUTHN_RP_ID": "https://example.com"}, "ESAUTH_WEBAUTHN_RP_ID: expected a host name"),
        ({"ESAUTH_PUBLIC_URL": "https://auth.example.com", "ESAUTH_WEBAUTHN_RP_ID": "example.org"}, "must be ESAUTH_PUBLIC_URL's host"),
        ({"ESAUTH_PUBLIC_URL": "https://auth.example.com", "ESAUTH_WEBAUTHN_RP_ID": "ample.com"}, "must be ESAUTH_PUBLIC_URL's host"),
        ({"ESAUTH_WEBAUTHN_TIMEOUT": "5"}, "ESAUTH_WEBAUTHN_TIMEOUT: must be between 30 and 600"),
        ({"ESAUTH_WEBAUTHN_USER_VERIFICATION": "discouraged"}, "ESAUTH_WEBAUTHN_USER_VERIFICATION: expected one of required, preferred"),
    ],
)
def test_passkey_settings_that_cannot_work_are_refused_by_name(environ, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env(environ)
