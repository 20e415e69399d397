"""Every column text reaches analysts whole: the YAML that holds it, the comment built from it
and the data dictionary row say the same words (a comma in a flow mapping once cut 12 of them).
The published comments and the Dagster UI's descriptions are compared with the same texts in
tests/test_warehouse_docs.py."""

from __future__ import annotations

import re

import pytest
import yaml

from pedw.quality.dictionary import DICTIONARY_PATH, dictionary_row
from pedw.settings import PROJECT_ROOT
from pedw.warehouse_docs import DOCS_PATH, warehouse_docs

TEXT_FILES = [
    DOCS_PATH,
    PROJECT_ROOT / "pedw" / "staging" / "series.yml",
    *sorted((PROJECT_ROOT / "data_contracts").glob("*.yml")),
]


def _implicit_nulls(node: yaml.Node) -> list[tuple[int, str]]:
    """Keys written with no value at all (not `~`): how `{description: a, b.}` reads 'b.'."""
    found = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(value, yaml.ScalarNode)
                and value.tag.endswith(":null")
                and value.start_mark.index == value.end_mark.index
            ):
                found.append((key.start_mark.line + 1, key.value))
            found += _implicit_nulls(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found += _implicit_nulls(item)
    return found


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: p.name)
def test_no_text_file_has_a_key_without_a_value(path):
    cut = _implicit_nulls(yaml.compose(path.read_text(encoding="utf-8")))
    assert not cut, f"{path.name}: text cut at a comma (line, stray key): {cut}"


def _words(text: str) -> list[str]:
    return re.sub(r"[,\"'{}]", " ", text).split()


def _written_specs() -> dict[tuple[str, str], str]:
    """(table, column) -> the source text of each column given its own text in
    warehouse_docs.yml, exactly as written in the file."""
    text = DOCS_PATH.read_text(encoding="utf-8")
    root = yaml.compose(text)
    tables = dict((k.value, v) for k, v in root.value)["tables"]
    specs = {}
    for table_key, table in tables.value:
        columns = dict((k.value, v) for k, v in table.value).get("columns")
        if columns is None:
            continue  # `<<: *anchor`: the same texts as the table it repeats
        for column_key, spec in columns.value:
            if spec.tag.endswith(":null"):
                continue  # text from the contract or series.yml (checked above)
            specs[(table_key.value, column_key.value)] = text[
                spec.start_mark.index : spec.end_mark.index
            ]
    return specs


def test_every_written_column_text_is_whole_in_its_comment():
    specs = _written_specs()
    assert len(specs) > 200
    docs = warehouse_docs()
    for (table, column), source in specs.items():
        comment = docs[table].column(column).comment
        expected = [w for w in _words(source) if w not in ("description:", "unit:")]
        # The comment is the description, then "Unit: <unit>." when there is one.
        got = _words(re.sub(r" Unit: (.*)\.$", r" \1", comment))
        assert got == expected, (table, column, source, comment)
    mean_sales_drop = docs["models.resilience_by_country"].column("mean_sales_drop").comment
    assert mean_sales_drop.endswith("pre-shock mean, net of unshocked peers. Unit: log.")
    share_improved = docs["marts.score_kpi_change"].column("share_improved").comment
    assert "defects, accidents, absenteeism and turnover). Unit: share." in share_improved


def test_the_dictionary_holds_every_comment_whole():
    dictionary = DICTIONARY_PATH.read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0]: s for s in dictionary.split("\n### ")}
    for name, doc in warehouse_docs().items():
        for column in doc.columns:
            assert dictionary_row(column.name, column.comment) in sections[name], (name, column)


def test_a_description_cut_by_a_comma_is_refused_by_name(tmp_path, monkeypatch):
    import pedw.warehouse_docs as module

    broken = DOCS_PATH.read_text(encoding="utf-8").replace(
        "\"Mean change of log sales in the shock year against the firm's own pre-shock mean, "
        'net of unshocked peers."',
        "Mean change of log sales in the shock year against the firm's own pre-shock mean, "
        "net of unshocked peers.",
    )
    assert broken != DOCS_PATH.read_text(encoding="utf-8")
    path = tmp_path / "warehouse_docs.yml"
    path.write_text(broken, encoding="utf-8")
    monkeypatch.setattr(module, "DOCS_PATH", path)
    module.warehouse_docs.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"models\.resilience_by_country\.mean_sales_drop "
                           r"has keys \['net of unshocked peers\.'\]"):  # fmt: skip
            module.warehouse_docs()
    finally:
        module.warehouse_docs.cache_clear()
