"""The SECRET_KEY `serve` makes up for one machine on SQLite (pure file handling)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from integration.runtime import local_secret


@pytest.mark.parametrize(
    "url, expected",
    [
        ("sqlite:///var/dispute-desk.sqlite3", Path("var/secret-key")),
        ("sqlite:////srv/desk/data.sqlite3", Path("/srv/desk/secret-key")),
        ("sqlite://", None),  # in memory: nothing to keep it beside
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/desk", None),  # several machines: one key, set by you
    ],
)
def test_the_key_lives_beside_a_sqlite_file_only(url, expected):
    assert local_secret.key_file(url) == expected


def test_the_key_is_made_once_readable_by_its_owner_only_and_kept(tmp_path: Path):
    path = tmp_path / "data" / "secret-key"

    first = local_secret.read_or_create(path)

    assert len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret.read_or_create(path) == first  # a restart signs with the same key


def test_a_key_that_is_set_is_never_replaced(tmp_path: Path):
    environ = {"SECRET_KEY": "mine", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert local_secret.provide(environ, "sqlite:///unused.sqlite3") is None
    assert environ["SECRET_KEY"] == "mine" and not (tmp_path / "secret-key").exists()


def test_provide_fills_the_environment_from_the_file(tmp_path: Path):
    environ = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert local_secret.provide(environ, "sqlite:///unused.sqlite3") == tmp_path / "secret-key"
    assert environ["SECRET_KEY"] == (tmp_path / "secret-key").read_text().strip()
    assert local_secret.provide({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/x"}, "sqlite:///u.sqlite3") is None
