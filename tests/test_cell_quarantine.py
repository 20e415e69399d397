"""Cell-level quarantine for wide tables (contract `quarantine: cell`, the PWT): a value that
breaks its column's rule costs that cell, not the economy-year's other variables."""

from __future__ import annotations

import pandas as pd
import pytest

from pedw.quality.contracts import ContractError, load_contract, parse_contract
from pedw.quality.row_rules import check_rows, quarantine_query, staged_query
from pedw.store import offline_connection

HEADER = ["countrycode", "country", "year", "price_year", "rgdpo", "emp", "avh", "hc", "rnna",
          "csh_x", "csh_m", "labsh"]  # fmt: skip


def check(rows: list[list[str | None]]) -> tuple[pd.DataFrame, pd.DataFrame, tuple]:
    frame = pd.DataFrame(rows, columns=HEADER)
    frame["source_name"], frame["source_file"] = "pwt", "pwt1001.csv"
    frame["source_line"] = range(2, len(frame) + 2)
    frame["raw_record"] = None
    con = offline_connection()
    con.register("raw_rows", frame)
    contract = load_contract("pwt_drivers")
    checked = check_rows(con, contract, "raw_rows", "checked")
    staged = con.sql(staged_query(contract, checked)).df()
    quarantined = con.sql(quarantine_query(contract, checked, "run")).df()
    counts = con.execute(f"""SELECT count(*), count(*) FILTER (WHERE len(violations) = 0),
                              count(*) FILTER (WHERE len(violations) > 0) FROM {checked}""")
    return staged, quarantined, counts.fetchone()


def test_each_broken_cell_is_quarantined_alone_and_the_row_loads():
    staged, quarantined, (read, loaded, rows_quarantined) = check([
        # line 2: employment rounded to 0, human capital out of range, exports not a number
        ["TUV", "Tuvalu", "2019", "2017", "52.1", "0.00", None, "6.5", "310.2", "abc", "-0.4",
         "0.55"],
        ["KEN", "Kenya", "2019", "2017", "230000.5", "21.3", "2100", "2.2", "800000", "0.1",
         "-0.2", "0.4"],
        # line 4: no country code: the key is broken, the whole row is quarantined
        ["", "Nowhere", "2019", "2017", "1", "0", "1", "1", "1", "1", "1", "1"],
    ])  # fmt: skip
    assert (read, loaded, rows_quarantined) == (3, 2, 1)  # read = loaded + quarantined
    tuvalu = staged.set_index("countrycode").loc["TUV"]
    assert (tuvalu.rgdpo, tuvalu.rnna, tuvalu.csh_m, tuvalu.labsh) == (52.1, 310.2, -0.4, 0.55)
    assert tuvalu[["emp", "hc", "csh_x"]].isna().all()
    assert staged.set_index("countrycode").loc["KEN"].emp == 21.3
    cells = quarantined[quarantined.source_line == 2]
    assert sorted(zip(cells.column_name, cells.rule, cells.value, strict=True)) == [
        ("csh_x", "type", "abc"), ("emp", "range", "0.00"), ("hc", "range", "6.5")
    ]  # fmt: skip
    assert cells.message.str.endswith("this one is left empty)").all()
    # The row without a key: every rule it broke, none of them told as "the row loaded".
    row = quarantined[quarantined.source_line == 4]
    assert set(zip(row.column_name, row.rule, strict=True)) == {
        ("countrycode", "required"), ("emp", "range"), ("avh", "range")
    }  # fmt: skip
    assert not row.message.str.contains("this cell only").any()


def test_a_contract_quarantine_mode_other_than_row_or_cell_is_refused(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text(
        "name: x\ntitle: x\ndescription: x\nlevel: national\ngrain: x\nkey: [a]\n"
        "quarantine: column\ncolumns:\n  - {name: a, type: VARCHAR, description: a}\n"
    )
    with pytest.raises(ContractError, match="quarantine must be row or cell, not 'column'"):
        parse_contract(path)
