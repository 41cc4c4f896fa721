"""Article catalog: real SQLite files, copies that leave the original untouched."""

from __future__ import annotations

import sqlite3

import pytest

from index.catalog import Catalog
from index.errors import IndexCorruptError


def test_rows_are_found_by_id_and_by_segment(tmp_path):
    catalog = Catalog.writable(tmp_path / "c.sqlite")
    catalog.put([("a", "h1", "seg-1"), ("b", "h2", "seg-1"), ("c", "h3", "seg-2"), ("زيارة", "h4", "seg-2")])
    assert len(catalog) == 4 and "a" in catalog and "z" not in catalog
    assert catalog.hashes(["a", "زيارة", "missing"]) == {"a": "h1", "زيارة": "h4"}
    assert catalog.segments() == {"a": "seg-1", "b": "seg-1", "c": "seg-2", "زيارة": "seg-2"}
    assert sorted(catalog.ids_in("seg-2")) == ["c", "زيارة"] and catalog.holders() == {"seg-1", "seg-2"}
    catalog.put([("a", "h5", "seg-3")])  # a replacement moves the article
    catalog.delete(["b", "missing"])
    assert catalog.segments() == {"a": "seg-3", "c": "seg-2", "زيارة": "seg-2"}
    assert catalog.hashes(["a"]) == {"a": "h5"} and catalog.holders() == {"seg-2", "seg-3"}


def test_a_writable_copy_leaves_the_published_file_unchanged(tmp_path):
    first = Catalog.writable(tmp_path / "one.sqlite")
    first.put([("a", "h1", "seg-1")])
    first.save()
    published = (tmp_path / "one.sqlite").read_bytes()
    second = Catalog.writable(tmp_path / "two.sqlite", copy_of=tmp_path / "one.sqlite")
    second.put([("b", "h2", "seg-2")])
    second.save()
    assert (tmp_path / "one.sqlite").read_bytes() == published
    assert Catalog.open(tmp_path / "one.sqlite").hashes() == {"a": "h1"}
    assert Catalog.open(tmp_path / "two.sqlite").hashes() == {"a": "h1", "b": "h2"}


def test_a_published_catalog_is_read_only(tmp_path):
    catalog = Catalog.writable(tmp_path / "c.sqlite")
    catalog.save()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        Catalog.open(tmp_path / "c.sqlite").put([("a", "h", "s")])


def test_an_unreadable_catalog_names_the_file_and_the_fix(tmp_path):
    (tmp_path / "c.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(IndexCorruptError, match=r"c\.sqlite.*--rebuild"):
        Catalog.open(tmp_path / "c.sqlite")


def test_in_memory_catalog_of_an_older_index(tmp_path):
    catalog = Catalog.in_memory([("a", "h1", "seg-1")])
    assert catalog.segments(["a"]) == {"a": "seg-1"} and len(catalog) == 1
