"""The loaded taxonomy: looked up by code without rebuilding its index."""

import pytest

from app.taxonomy import load_taxonomy


def test_taxonomy_index_by_code_is_built_once_and_read_only():
    taxonomy = load_taxonomy()
    first = taxonomy.by_code
    assert taxonomy.by_code is first
    assert set(first) == {c.code for c in taxonomy.categories}
    with pytest.raises(TypeError):
        first["new-code"] = taxonomy.categories[0]  # type: ignore[index]
