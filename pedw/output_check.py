"""Whether pedw's store still holds an asset's outputs as pedw wrote them: Dagster cannot see
the store, so an output deleted, or edited by hand (its seal, pedw/seal.py), is found here and
rebuilt. Assets are named by their key as a string ("warehouse", "briefs/country_brief")."""

from __future__ import annotations

from collections.abc import Iterable

from pedw.briefs.published import brief_problems, missing_briefs
from pedw.release import degraded_publication, published_changed, published_ok
from pedw.settings import Settings
from pedw.store import Store

WAREHOUSE, PUBLIC_RELEASE, BRIEFS = "warehouse", "public_release", "briefs/country_brief"
OUTPUT_MISSING = "output missing"


def output_problem(
    key: str, declared: str | None, partitions: Iterable[str] | None, settings: Settings
) -> str:
    """Why the store does not hold `key`'s outputs as pedw wrote them, or "" when it does."""
    if not _outputs_present(declared, key, partitions, settings):
        return OUTPUT_MISSING
    changed = _outputs_changed(declared, settings)
    if changed:
        return f"output changed outside pedw ({changed[0]})"
    if key == WAREHOUSE:
        return published_changed(settings.warehouse_path) or degraded_publication(settings) or ""
    if key == PUBLIC_RELEASE:
        return published_changed(
            settings.public_dir / "public.duckdb", "the public extract", settings.public_seal
        ) or ""  # fmt: skip
    if key == BRIEFS:
        problems = brief_problems(Store(settings.store_dir), settings, partitions, False)
        if problems:
            country, why = sorted(problems.items())[0]
            return f"briefs do not match the tables ({len(problems)} economies; {country}: {why})"
    return ""


def declared_outputs(declared: str | None) -> list[tuple[str, str, str]]:
    """(schema, table, partition or "") of each output in an asset's declared outputs
    ("schema.table" or "schema.table/partition", comma-separated)."""
    if not declared:
        return []
    found = []
    for output in declared.split(","):
        table, _, part = output.partition("/")
        schema, name = table.split(".")
        found.append((schema, name, part))
    return found


def _outputs_changed(declared: str | None, settings: Settings) -> list[str]:
    """Store files of the declared outputs that pedw did not write as they are now (their seal
    does not match): a file edited or replaced by hand, or by another program."""
    store = Store(settings.store_dir)
    return [
        str(path.relative_to(store.root))
        for schema, name, part in declared_outputs(declared)
        for path in store.unsealed(schema, name, part or None)
    ]


def _outputs_present(
    declared: str | None, key: str, partitions: Iterable[str] | None, settings: Settings
) -> bool:
    """True when every output the asset declares exists (the store can be emptied by hand)."""
    if key == WAREHOUSE:
        return published_ok(settings)
    if key == PUBLIC_RELEASE:
        return (settings.public_dir / "public.duckdb").is_file()
    if key == BRIEFS:
        return not missing_briefs(Store(settings.store_dir), settings, list(partitions or []))
    store = Store(settings.store_dir)
    for schema, name, part in declared_outputs(declared):
        if part:
            if not (store.table_dir(schema, name) / f"{part}.parquet").is_file():
                return False
        elif not store.exists(schema, name):
            return False
    return True
