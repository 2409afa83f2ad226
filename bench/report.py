"""Render bench/results/*.json into docs/benchmarks.md (numbers only; analysis lives in
docs/benchmarks-notes.md, which the report includes verbatim)."""

from __future__ import annotations

import json
from pathlib import Path

CASE_LABELS = {
    "floor": "floor: GROUP BY over bookings + over payments",
    "peer_mv_refresh": "peer: REFRESH MATERIALIZED VIEW (35 columns)",
    "peer_mv_refresh_concurrently": "peer: REFRESH MATERIALIZED VIEW CONCURRENTLY",
    "peer_seed_upsert": "peer: seed's 90-day CTE upsert of every row",
    "ours_full_first_load": "ours: full, first load into an empty table",
    "ours_full_unchanged": "ours: full again, nothing changed",
    "ours_incremental_unchanged": "ours: incremental, nothing changed",
    "ours_incremental_hour_later": "ours: incremental an hour later, no source write (the clock only)",
    "ours_incremental_0.1pct": "ours: incremental after 0.1% of customers changed",
    "ours_incremental_1pct": "ours: incremental after 1% changed",
    "ours_incremental_10pct": "ours: incremental after 10% changed",
    "ours_incremental_1pct_new_session": "ours: incremental after 1% changed, each run in a new session (as pg_cron runs it)",
    "ours_recent": "ours: recent",
    "writes_insert_100k_without_triggers": "100k booking inserts (batches of 1,000), no triggers",
    "writes_insert_100k_with_triggers": "100k booking inserts (batches of 1,000), with change capture",
    "writes_update_100k_without_triggers": "100k booking updates (batches of 1,000), no triggers",
    "writes_update_100k_with_triggers": "100k booking updates (batches of 1,000), with change capture",
    "read_segment_counts_one_org": "read: segment counts, one organization (analytics_segment_counts)",
    "read_segment_counts_one_org_counted": "read: segment counts counted from customer_analytics at read time",
    "read_customer_by_key": "read: one customer by key",
    "read_daily_view_one_org_90d": "read: daily appointments, one organization, 90 days (analytics_appointments_by_location_daily_between)",
    "read_daily_view_one_org_90d_view": "read: the same 90 days filtered from the view",
    "read_daily_view_90d_every_org": "read: daily appointments, 90 days, every organization (median; min – max over them)",
}


def _setting(value: str) -> str:
    """Results written before 2026-11-25 14:20 glued pg_settings.setting to an 8kB unit
    ("1310728kB" = 131072 blocks of 8kB); show those as sizes."""
    if value.endswith("8kB") and value[:-3].isdigit():
        kib = int(value[:-3]) * 8
        return f"{kib // 1048576}GB" if kib % 1048576 == 0 else f"{kib // 1024}MB"
    return value


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _times(ratio) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _ratio(cases, a, b):
    try:
        return cases[a]["median_s"] / cases[b]["median_s"]
    except (KeyError, ZeroDivisionError):
        return None


def _capture_runs(paired) -> str:
    if not paired:
        return ""
    if paired.get("method") == "alternate batches":
        return f" (change capture: {paired['runs']} runs of 100 batches of each variant, alternating)"
    return f" (change capture: {paired['runs']} of each variant)"


def _paired(cases, ratio, case="paired_full_unchanged"):
    """A ratio measured repeat by repeat (Bench.record_paired, recorded under `case`), or None
    for a run that did not."""
    return cases.get(case, {}).get("ratios", {}).get(ratio)


def targets(cases) -> list[tuple[str, str, bool | None]]:
    def check(label, value, limit, fmt="{:.2f}x"):
        if value is None:
            return (label, "n/a", None)
        return (label, fmt.format(value) + f" (target <= {fmt.format(limit)})", value <= limit)

    def repeat_by_repeat(label, how, paired, older, limit, fmt, beside, offset=0.0):
        """A ratio measured repeat by repeat (`paired`: the per-repeat values' summary), the
        verdict from their median and the ratio measured the older way (`older`) shown beside
        it; a run without the repeats is judged by the older ratio. `offset` 1 states a ratio
        as an overhead (+4.3% for 1.043)."""
        if paired is None:
            return check(label, None if older is None else older - offset, limit, fmt)
        shown = lambda value: fmt.format(value - offset)
        return (f"{label} ({how})",
                f"{shown(paired['median'])}, {shown(paired['min'])} to {shown(paired['max'])} over "
                f"{len(paired['per_repeat'])} repeats (target <= {fmt.format(limit)}; {beside}: "
                f"{'n/a' if older is None else shown(older)})",
                paired["median"] - offset <= limit)

    def full_over(case, ratio, label, limit):
        return repeat_by_repeat(label, "within each repeat", _paired(cases, ratio),
                                _ratio(cases, "ours_full_unchanged", case), limit, "{:.2f}x", "the cases' medians")

    rows = [
        full_over("peer_mv_refresh_concurrently", "full_over_peer_concurrently", "full / peer MV CONCURRENTLY", 1.5),
        full_over("floor", "full_over_floor", "full / floor", 4.0),
        check("full unchanged / full first load", _ratio(cases, "ours_full_unchanged", "ours_full_first_load"), 1.2),
        repeat_by_repeat("incremental 1% / full", "the full refresh right after each run",
                         _paired(cases, "incremental_1pct_over_full", "paired_incremental_1pct"),
                         _ratio(cases, "ours_incremental_1pct", "ours_full_unchanged"), 0.08, "{:.1%}",
                         "against the full cases' median"),
        check("incremental nothing changed / full", _ratio(cases, "ours_incremental_unchanged", "ours_full_unchanged"), 0.05, "{:.1%}"),
    ]
    capture = cases.get("writes_paired", {})
    for kind in ("insert", "update"):
        rows.append(repeat_by_repeat(
            f"change capture overhead on {kind}s",
            "batches alternating" if capture.get("method") == "alternate batches" else "within each repeat",
            _paired(cases, kind, "writes_paired"),
            _ratio(cases, f"writes_{kind}_100k_with_triggers", f"writes_{kind}_100k_without_triggers"),
            0.15, "{:+.1%}", "the cases' medians", offset=1.0))
    for name, limit in (("read_segment_counts_one_org", 0.005), ("read_customer_by_key", 0.001),
                        ("read_daily_view_one_org_90d", 0.1)):
        if name in cases:
            value = cases[name]["median_s"]
            rows.append((CASE_LABELS[name], f"{_fmt(value)} (target <= {_fmt(limit)})", value <= limit))
    writes = cases.get("ours_full_unchanged", {}).get("writes")
    if writes is not None:
        rows.append(("rows written by full with nothing changed", str(writes), all(w == 0 for w in writes)))
    return rows


def write_report(results_dir: Path, out: Path) -> Path:
    results = [json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))]
    order = {"S": 0, "M": 1, "L": 2}
    results.sort(key=lambda r: order.get(r["scale"], 9))
    lines = ["# Benchmarks", "",
             "Generated by `python -m bench --scale S|M|L` (bench/report.py) from bench/results/*.json.",
             "Each case runs several times in one run; ratios are computed within a run.", ""]
    notes = out.parent / "benchmarks-notes.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    for result in results:
        cases = result["cases"]
        data = result["data"]
        lines += [f"## Scale {result['scale']} — {result['date']}", "",
                  f"Data: {data['organizations']} organizations, {data['customers']:,} customers, "
                  f"{data['bookings']:,} bookings, {data['payments']:,} payments "
                  + (f"(seeded in {result['seed_seconds']} s).  " if result.get("seeded_in_this_run", True)
                     else f"(copied from an earlier run's seeded data; seeding took {result['seed_seconds']} s then).  "),
                  f"Machine: {result['machine']['cores']} cores, {result['machine']['ram_gib']} GiB RAM, "
                  f"{result['machine']['platform']}.  ",
                  "PostgreSQL: " + ", ".join(f"{k} = {_setting(v)}" for k, v in sorted(result["postgres"].items())) + ".  ",
                  f"Runs per case: {result['repeats']}"
                  + _capture_runs(result["cases"].get("writes_paired")) + ".", "",
                  "### Targets", "", "| target | measured | met |", "|---|---|---|"]
        for label, measured, met in targets(cases):
            lines.append(f"| {label} | {measured} | {'yes' if met else ('no' if met is False else '-')} |")
        lines += ["", "### Cases", "",
                  "| case | median | min – max | × floor | × peer MV CONCURRENTLY | × peer seed upsert | note |",
                  "|---|---|---|---|---|---|---|"]
        for name, label in CASE_LABELS.items():
            if name not in cases:
                continue
            case = cases[name]
            vs_floor = _ratio(cases, name, "floor")
            vs_peer = _ratio(cases, name, "peer_mv_refresh_concurrently")
            vs_upsert = _ratio(cases, name, "peer_seed_upsert")
            note = "; ".join(part for part in (
                case.get("note"),
                "customers whose sources changed per run: "
                + str([run["customers"] for run in case["changed"]]) if "changed" in case else None,
                f"customers recomputed per run: {case['recomputed']}" if "recomputed" in case else None,
                f"rows written per run: {case['writes']}" if "writes" in case else None,
                "vacuumed before the run, as autovacuum would have by then: "
                + "[" + ", ".join("yes" if v else "no" for v in case["vacuumed"]) + "]" if "vacuumed" in case else None)
                if part)
            lines.append(f"| {label} | {_fmt(case['median_s'])} | {_fmt(case['min_s'])} – {_fmt(case['max_s'])} | "
                         f"{'' if vs_floor is None or name.startswith(('read', 'writes')) else f'{vs_floor:.2f}'} | "
                         f"{'' if vs_peer is None or name.startswith(('read', 'writes')) else f'{vs_peer:.2f}'} | "
                         f"{'' if vs_upsert is None or name.startswith(('read', 'writes')) else f'{vs_upsert:.2f}'} | "
                         f"{note} |")
        paired = cases.get("paired_full_unchanged")
        if paired:
            lines += ["", "Measured in turn, repeat by repeat (the order rotating; seconds per repeat): "
                      + "; ".join(f"{CASE_LABELS.get(label, label)} "
                                  + ", ".join(f"{value:.2f}" for value in timings)
                                  for label, timings in paired["seconds"].items()) + "."]
        after_1pct = cases.get("paired_incremental_1pct")
        if after_1pct:
            lines += ["", "The 1% incremental runs and the full refresh right after each (seconds per run): "
                      + ", ".join(f"{incremental:.2f} then {full:.2f}" for incremental, full in zip(
                          after_1pct["seconds"]["ours_incremental_1pct"],
                          after_1pct["seconds"]["ours_full_after_incremental_1pct"])) + "."]
        extra = cases.get("sizes", {}).get("value")
        if extra:
            lines += ["", "Sizes: " + ", ".join(f"{k} {v}" for k, v in extra.items()) + "."]
        private = cases.get("full_refresh_private_memory_kb", {}).get("value")
        if private:
            lines += [f"Peak private memory during the full refreshes (RssAnon, sampled every 50 ms): the backend "
                      f"{private['backend_kb'] / 1024:.0f} MiB; the backend and its parallel workers at one instant "
                      f"{private['backend_and_workers_kb'] / 1024:.0f} MiB."]
        temp = cases.get("full_unchanged_temp_bytes", {}).get("value")
        if temp is not None:
            lines += [f"Temporary files written per full refresh with nothing changed (what did not fit in work_mem; "
                      f"pg_stat_database.temp_bytes): {temp / 1024 / 1024:.0f} MiB."]
        hwm = cases.get("backend_vm_hwm_kb", {}).get("value")
        if hwm:
            lines += [f"Backend peak memory (VmHWM, includes the shared buffers it touched): {hwm / 1024:.0f} MiB."]
        lines.append("")
    if len(results) > 1:
        lines += ["## Scaling", "", "| scale | bookings | floor | full (unchanged) | full / floor (medians) "
                  "| full / floor (within each repeat) | incremental 1% |",
                  "|---|---|---|---|---|---|---|"]
        for result in results:
            cases = result["cases"]
            paired = _paired(cases, "full_over_floor")
            lines.append(f"| {result['scale']} | {result['data']['bookings']:,} | {_fmt(cases['floor']['median_s'])} | "
                         f"{_fmt(cases['ours_full_unchanged']['median_s'])} | "
                         f"{_times(_ratio(cases, 'ours_full_unchanged', 'floor'))} | "
                         f"{'n/a' if paired is None else _times(paired['median'])} | "
                         f"{_fmt(cases['ours_incremental_1pct']['median_s'])} |")
        by_scale = {r["scale"]: r for r in results}
        if "S" in by_scale and "L" in by_scale:
            small, large = by_scale["S"], by_scale["L"]
            data_growth = large["data"]["bookings"] / small["data"]["bookings"]
            time_growth = (large["cases"]["ours_full_unchanged"]["median_s"]
                           / small["cases"]["ours_full_unchanged"]["median_s"])
            floor_growth = large["cases"]["floor"]["median_s"] / small["cases"]["floor"]["median_s"]
            lines += ["", f"Growth S -> L: {data_growth:.1f}x the bookings, {time_growth:.1f}x the time of a "
                          f"full refresh (target <= 12x: {'met' if time_growth <= 12 else 'missed'}; "
                          f"{'linear or better' if time_growth <= data_growth * 1.05 else 'worse than linear'}). "
                          # two runs, possibly hours apart on a machine whose speed moves: say which,
                          # and how the floor grew between them
                          f"A ratio across two runs (S {small['date'][:16]}, L {large['date'][:16]}): "
                          f"the floor grew {floor_growth:.1f}x between them."]
        lines.append("")
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines))
    return out
