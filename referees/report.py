"""One row per referee (and meta-referee): rating, accuracy, biases, missing verdicts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arena.records import ALL_FAMILIES, META_REFEREE, REFEREE
from referees.accuracy import BUCKETS, accuracy_by_referee, strict_by_judge, wilson
from referees.bias import bias_by_referee

if TYPE_CHECKING:
    from arena.engine.store import Store


def referee_table(store: "Store", roles: tuple[str, ...] = (REFEREE,)) -> list[dict[str, Any]]:
    """Rows for referees (and meta-referees when asked), by role then conservative rating, best first.

    Keys: variant, role, mu, sigma, conservative, matches, accuracy, accuracy_n, position_bias,
    length_bias, self_preference, self_n, verdicts, ties, missing, missing_rate (None = no data).
    """
    ratings = {(r.variant, r.role): r for role in (REFEREE, META_REFEREE)
               for r in store.ratings(role=role, family=ALL_FAMILIES)}
    bias = bias_by_referee(store)
    acc = accuracy_by_referee(store)
    keys = {k for k in set(ratings) | set(bias) | {(v, REFEREE) for v in acc} if k[1] in roles}
    rows = []
    for variant, role in keys:
        r, b = ratings.get((variant, role)), bias.get((variant, role))
        correct, total = acc.get(variant, [0, 0]) if role == REFEREE else (0, 0)
        rows.append({
            "variant": variant, "role": role,
            "mu": round(r.mu, 3) if r else None, "sigma": round(r.sigma, 3) if r else None,
            "conservative": round(r.conservative, 3) if r else None, "matches": r.matches if r else 0,
            "accuracy": round(correct / total, 4) if total else None, "accuracy_n": total,
            "position_bias": b.position_bias if b else None, "length_bias": b.length_bias if b else None,
            "self_preference": b.self_preference if b else None, "self_n": b.self_decisive if b else 0,
            "verdicts": b.verdicts if b else 0, "ties": b.ties if b else 0,
            "missing": b.missing if b else 0, "missing_rate": b.missing_rate if b else None,
        })
    rows.sort(key=lambda row: (row["role"] != REFEREE, -(row["conservative"] if row["conservative"] is not None
                                                          else float("-inf")), row["variant"]))
    add_strict(rows, store)
    return rows


def strict_rows(store: "Store") -> dict[str, dict[str, Any]]:
    """{name: strict accuracy over the run} for every referee and panel scored against the truth:
    method(s), right, total, accuracy, ci (Wilson 95%), buckets {gap bucket: {right, total, accuracy, ci}}."""
    out: dict[str, dict[str, Any]] = {}
    for (name, method), buckets in sorted(strict_by_judge(store).items()):
        row = out.setdefault(name, {"methods": [], "right": 0, "total": 0, "buckets": {}})
        row["methods"].append(method)
        for bucket, (right, total) in buckets.items():
            b = row["buckets"].setdefault(bucket, {"right": 0, "total": 0})
            b["right"] += right
            b["total"] += total
            row["right"] += right
            row["total"] += total
    for row in out.values():
        for b in [row, *row["buckets"].values()]:
            b["accuracy"] = round(b["right"] / b["total"], 4) if b["total"] else None
            b["ci"] = wilson(b["right"], b["total"])
        row["buckets"] = {k: row["buckets"][k] for k in BUCKETS if k in row["buckets"]}
    return out


def add_strict(rows: list[dict[str, Any]], store: "Store") -> None:
    """Strict accuracy onto the referee rows (key `strict`, None = never scored), and one row per
    panel (role "panel", variant "panel:a+b")."""
    strict = strict_rows(store)
    for row in rows:
        row["strict"] = strict.get(row["variant"]) if row["role"] == REFEREE else None
    known = {row["variant"] for row in rows if row["role"] == REFEREE}
    for name, s in strict.items():
        if name.startswith("panel:") or name not in known:
            rows.append({"variant": name, "role": "panel" if name.startswith("panel:") else REFEREE, "strict": s,
                         **{k: None for k in ("mu", "sigma", "conservative", "accuracy", "position_bias",
                                              "length_bias", "self_preference", "missing_rate")},
                         "matches": 0, "accuracy_n": 0, "self_n": 0, "verdicts": 0, "ties": 0, "missing": 0})
