from pathlib import Path

import pytest

from telcodesk.core.env import ConfigurationError, env_bool, env_file, env_int, env_list, env_url


def test_env_bool_accepts_the_usual_spellings() -> None:
    assert env_bool("X", environ={"X": "Yes"}) is True
    assert env_bool("X", environ={"X": "0"}) is False
    assert env_bool("X", default=True, environ={}) is True


def test_env_bool_refuses_anything_else_loudly() -> None:
    with pytest.raises(ConfigurationError, match="X='maybe' is not a boolean"):
        env_bool("X", environ={"X": "maybe"})


def test_env_int_checks_type_and_bounds() -> None:
    assert env_int("N", 3, environ={"N": " 7 "}) == 7
    with pytest.raises(ConfigurationError, match="not a whole number"):
        env_int("N", 3, environ={"N": "7.5"})
    with pytest.raises(ConfigurationError, match="below the minimum 1"):
        env_int("N", 3, minimum=1, environ={"N": "0"})


def test_env_list_refuses_empty_items() -> None:
    assert env_list("H", environ={"H": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ConfigurationError, match="empty item"):
        env_list("H", environ={"H": "a.example,,b"})


def test_env_url_checks_the_scheme() -> None:
    assert env_url("U", schemes=("redis",), environ={}) == ""
    assert env_url("U", schemes=("redis",), environ={"U": "redis://h:1/0"}) == "redis://h:1/0"
    with pytest.raises(ConfigurationError, match="must start with one of redis://"):
        env_url("U", schemes=("redis",), environ={"U": "http://h"})


def test_env_file_needs_a_readable_file(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert env_file("F", environ={}) == ""
    assert env_file("F", environ={"F": f" {bundle} "}) == str(bundle)
    with pytest.raises(ConfigurationError, match="F must name a readable file"):
        env_file("F", environ={"F": str(tmp_path / "missing.pem")})
    with pytest.raises(ConfigurationError):
        env_file("F", environ={"F": str(tmp_path)})  # a directory
