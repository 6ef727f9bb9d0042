"""The shipped systemd unit keeps its hardening (the nginx configuration is run for real in e2e)."""

from __future__ import annotations

import shlex
from pathlib import Path

from entrypoints.cli import parser

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "esauth.service"


def directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            name, _, value = line.partition("=")
            found.setdefault(name, []).append(value)
    return found


def test_the_unit_gains_no_privileges_and_writes_only_its_data_dir() -> None:
    unit = directives()
    for name, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                        "PrivateTmp": "yes", "DynamicUser": "yes", "CapabilityBoundingSet": ""}.items():
        assert unit[name] == [value], name
    assert unit["ReadWritePaths"] == ["/var/lib/esauth"]
    assert "Environment" in unit and "ESAUTH_DATA_DIR=/var/lib/esauth" in unit["Environment"]
    assert unit["StateDirectory"] == ["esauth"]  # systemd makes /var/lib/esauth for the dynamic user


def test_the_unit_serves_on_loopback_behind_one_proxy_with_room_for_its_connections() -> None:
    unit = directives()
    command = shlex.split(unit["ExecStart"][0])
    assert command[0].endswith("/esauth") and command[1] == "serve"
    args = parser().parse_args(command[1:])  # the flags the CLI really has
    assert args.host == "127.0.0.1"
    assert "ESAUTH_TRUSTED_PROXIES=1" in unit["Environment"]
    assert int(unit["LimitNOFILE"][0]) > args.connection_limit + 100
