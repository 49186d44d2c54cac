"""SQLite's JSON serialiser writes exactly what SQLAlchemy's default (``json.dumps``) writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, text

from distributor.db.session import engine_for, json_text


class _List(list[Any]):
    """A list subclass: not the shortcut's case."""


VALUES: list[Any] = [
    [], [[]], [1], ["*Names have been changed"], ["三环路", "“q”"], (), {}, {"a": []}, "",
    "[]", None, 0, 1.5, True, _List(), _List([1]), [None], {"b": [1, "x"], "a": {}},
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_json_text_is_json_dumps(value: Any) -> None:
    assert json_text(value) == json.dumps(value)


def test_sqlite_stores_the_default_text(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path}/json.db")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", JSON))
    table.metadata.create_all(engine)
    stored = [[], ["a", "ü"], {"k": []}]
    with engine.begin() as connection:
        connection.execute(insert(table), [{"v": value} for value in stored])
        raw = connection.execute(text("SELECT v FROM t ORDER BY id")).scalars().all()
    assert raw == [json.dumps(value) for value in stored]
    engine.dispose()
