"""What a run materializes: what Dagster's declarative automation requests, and outputs that
pedw's store has lost or that changed outside pedw.

Dagster decides through the public `dg.evaluate_automation_conditions`, on the conditions the
daemon evaluates (pipelines/automation.py), with a cursor kept in the instance per warehouse:
`pedw run`, the daemon and the UI decide alike. The store is pedw's, and Dagster cannot see
it: an output deleted, or edited by hand, is rebuilt too (the seals of pedw/seal.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import dagster as dg

from assets.metadata import OUTPUTS
from pedw.output_check import output_problem
from pedw.settings import Settings
from pipelines.automation import REASONS, SliceChanged
from pipelines.jobs import WAREHOUSE

CURSOR = "pedw/automation_cursor:"  # + the warehouse path: the instance's key of the cursor


class Staleness:
    """Dagster's automation evaluated for one warehouse; `evaluate()` again after a run."""

    def __init__(
        self, definitions: dg.Definitions, instance: dg.DagsterInstance, settings: Settings
    ):
        self.definitions, self.instance, self.settings = definitions, instance, settings
        self._key = CURSOR + str(settings.warehouse_path)
        self._requested: dict[dg.AssetKey, set[str | None]] = {}
        self._why: dict[dg.AssetKey, str] = {}
        self._problems: dict[dg.AssetKey, str] = {}
        self._no_record = False  # no earlier evaluation on record, but a history: rebuild all

    def evaluate(self) -> None:
        """One evaluation of the automation conditions, as a daemon tick makes it; its cursor
        is stored in the instance, so the next evaluation (this run or the next) sees only
        what changed since."""
        stored = self.instance.run_storage.get_cursor_values({self._key}).get(self._key)
        dagster_log = logging.getLogger("dagster")
        dagster_log.addFilter(_tick_time_fallback)
        try:
            result = dg.evaluate_automation_conditions(
                defs=self.definitions,
                instance=self.instance,
                cursor=dg.deserialize_value(stored) if stored else None,  # "" as none
            )
        finally:
            dagster_log.removeFilter(_tick_time_fallback)
        self.instance.run_storage.set_cursor_values({self._key: dg.serialize_value(result.cursor)})
        self._requested = {}
        for outcome in result.results:
            if outcome.true_subset.size:
                key = outcome.key
                self._requested[key] = set(result.get_requested_partitions(key))
                # Why, in the run summary's words; kept from the evaluation that first saw it.
                self._why[key] = self._why.get(key) or _why(outcome)
        # Nothing on record of an earlier evaluation (a new instance cursor, an older pedw)
        # while assets were built: what is out of date cannot be told apart, so all of it is.
        self._no_record = self._no_record or (stored is None and self._has_history())
        if self._no_record:
            for key in self.definitions.resolve_asset_graph().materializable_asset_keys:
                self._requested.setdefault(key, {None})
                self._why.setdefault(key, "no earlier automation evaluation on record")

    def _has_history(self) -> bool:
        return self.instance.get_latest_materialization_event(WAREHOUSE) is not None

    def reasons(self, key: dg.AssetKey, partitions: Iterable[str] | None) -> list[str]:
        """Why `key` (or one of its `partitions`) must run; empty when it is current."""
        graph = self.definitions.resolve_asset_graph()
        why = output_problem(key.to_user_string(), declared(graph, key), partitions, self.settings)
        self._problems[key] = why
        if why:
            return [why]
        requested = self._requested.get(key, set())
        if partitions is not None and None not in requested:
            hit = sorted(requested & set(partitions))
            return [f"{self._why[key]} [{hit[0]}]"] if hit else []
        return [self._why[key]] if requested else []

    def partitions(self, key: dg.AssetKey, partitions: Iterable[str]) -> set[str]:
        """Which of `partitions` of `key` to build, after `reasons`: those Dagster requested;
        all when the store lost or changed its outputs, or Dagster requested it whole."""
        wanted = set(partitions)
        requested = self._requested.get(key, set())
        if self._problems.get(key) or None in requested:
            return wanted
        return requested & wanted or wanted


def _tick_time_fallback(record: logging.LogRecord) -> bool:
    """Drop Dagster's warning that an asset with over 100 updated partitions (the briefs of a
    large catalog) is timed at the tick: the update did happen before the tick, which is all
    the conditions ask, and the warning is noise in `pedw run`'s output."""
    return "per-partition timestamp fetching" not in str(record.msg)


def _why(outcome) -> str:
    """The first labelled cause (pipelines.automation.REASONS) true in an evaluation's tree."""
    pending = [outcome]
    while pending:
        node = pending.pop(0)
        label = node.condition.get_label()
        if label in REASONS and node.true_subset.size:
            inputs = _changed_inputs(node) if label == REASONS[1] else []
            return f"{label} ({', '.join(inputs)})" if inputs else label
        pending += node.child_results
    return "out of date since an earlier evaluation (not rebuilt since)"


def _changed_inputs(node) -> list[str]:
    """Each input an "inputs changed" node found changed, and how."""
    found, pending = [], list(node.child_results)
    while pending:
        child = pending.pop(0)
        if not child.true_subset.size:
            continue
        condition = child.condition
        if isinstance(condition, SliceChanged):
            found.append(f"{condition.raw.to_user_string()}: its slice changed")
        elif hasattr(condition, "key"):  # one input of any_deps_match
            kinds = {type(c.condition).__name__ for c in child.child_results[0].child_results
                     if c.true_subset.size}  # fmt: skip
            how = "has a new data version" if "DataVersionChangedCondition" in kinds else (
                "rebuilt first")  # fmt: skip
            found.append(f"{condition.key.to_user_string()}: {how}")
        else:
            pending += child.child_results
    return found


def declared(graph, key: dg.AssetKey) -> str | None:
    """The outputs an asset declares in its metadata (assets.metadata.OUTPUTS), as text."""
    value = graph.get(key).metadata.get(OUTPUTS)
    return None if value is None else getattr(value, "value", str(value))
