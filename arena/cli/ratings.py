"""`arena ratings` and `arena compare`: the leaderboard (TrueSkill, or Bradley-Terry with bootstrap
intervals) and two variants, or a loop's generations, head to head with what separates them."""
from __future__ import annotations

import argparse
import json
from typing import Any

from arena.cli.common import open_store, printable, run_dir_argument
from arena.errors import UserError

METHODS = ("trueskill", "bt")
Z95 = 1.959963984540054


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value[:40]!r}") from None
    if not 1 <= n <= 100_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100000, got {n}")
    return n


def _bootstrap_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", type=_positive, default=1000,
                   help="Bradley-Terry bootstrap resamples of the matches (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ratings", help="ratings per variant, role and family (TrueSkill or Bradley-Terry)")
    run_dir_argument(p)
    p.add_argument("--family", help="one family, or * for all families together (default: *)")
    p.add_argument("--role", help="player, author, referee or meta-referee (default: player)")
    p.add_argument("--method", choices=METHODS, default="trueskill",
                   help="trueskill: mu and sigma; bt: Bradley-Terry strength with its 95%% bootstrap interval")
    p.add_argument("--all", action="store_true", help="every role and family at once")
    p.add_argument("--format", choices=("table", "json"), default="table")
    _bootstrap_arguments(p)
    p.set_defaults(func=cmd_ratings)

    p = sub.add_parser("compare", help="two variants (or a loop's generations) head to head, with intervals")
    p.add_argument("a", nargs="?")
    p.add_argument("b", nargs="?")
    p.add_argument("--lineage", metavar="NAME", help="every generation of a loop: NAME, NAME-g1, NAME-g2, ...")
    run_dir_argument(p)
    p.add_argument("--family", default="*")
    p.add_argument("--role", default="player")
    _bootstrap_arguments(p)
    p.set_defaults(func=cmd_compare)


def _check_role(role: str) -> None:
    from arena.records import ROLES
    if role not in ROLES:
        raise UserError(f"unknown role {printable(role[:60])!r} (known: {', '.join(ROLES)})")


def cmd_ratings(args: argparse.Namespace) -> int:
    store = open_store(args.run_dir)
    role = args.role or "player"
    _check_role(role)
    family = args.family or "*"
    rated = {(r.role, r.family) for r in store.ratings()}
    if args.all:
        combos = sorted(rated, key=lambda k: (k[0], k[1] != "*", k[1]))
    else:
        known = sorted({f for _, f in rated} - {"*"})
        if family != "*" and family not in known:
            raise UserError(f"no ratings for family {printable(family[:60])!r} in {args.run_dir} "
                            f"(rated families: {', '.join(known) or 'none'})")
        combos = [(role, family)]
    tables = [(r, f, _rating_rows(store, args, r, f)) for r, f in combos]
    if args.format == "json":
        print(json.dumps([row for _, _, rows in tables for row in rows], indent=2))
        return 0
    if not any(rows for _, _, rows in tables):
        print(f"no {'' if args.all else role + ' '}ratings yet in {args.run_dir}")
        return 0
    for k, (r, f, rows) in enumerate(tables):
        if not rows:
            continue
        if k:
            print()
        if args.method == "bt":
            cols = ["variant", "strength", "interval", "elo", "matches", "wins", "losses", "draws"]
            title = f"{r} Bradley-Terry strength (log scale, field mean 0; 95% bootstrap interval), family {f}"
        else:
            cols = ["variant", "mu", "sigma", "conservative", "matches", "wins", "losses", "draws"]
            title = f"{r} ratings, family {f}"
        cols += [c for c in rows[0] if c not in cols and c not in ("role", "family", "lo", "hi")]
        _print_table(rows, cols, title=title)
    return 0


def _rating_rows(store: Any, args: argparse.Namespace, role: str, family: str) -> list[dict[str, Any]]:
    extra = _extra_columns(store, role)
    if args.method == "bt":
        from arena.engine.bradley_terry import fit
        rows = []
        for r in fit(store, role=role, family=family, bootstrap=args.bootstrap, seed=args.seed):
            d = r.to_dict()
            d["interval"] = f"[{r.lo:+.2f}, {r.hi:+.2f}]"
            d.update(extra.get(r.variant, {}))
            rows.append(d)
        if args.format == "json":
            for d in rows:
                del d["interval"]
        return rows
    rows = []
    for r in sorted(store.ratings(role=role, family=family), key=lambda r: -r.conservative):
        d = r.to_dict()
        # TrueSkill's own 95% interval of mu (mu +- 1.96 sigma), so --all --format json has one for both methods
        d["lo"], d["hi"] = r.mu - Z95 * r.sigma, r.mu + Z95 * r.sigma
        d.update(extra.get(r.variant, {}))
        rows.append(d)
    return rows


def _extra_columns(store: Any, role: str) -> dict[str, dict[str, Any]]:
    """Columns other modules provide when they are installed: diversity, referee accuracy and bias."""
    extra: dict[str, dict[str, Any]] = {}
    try:
        from arena.training.diversity import self_similarity, variant_diversity
        for v, d in variant_diversity(store).items():
            extra.setdefault(v, {})["diversity"] = round(d, 3) if isinstance(d, float) else d
        if role == "player":  # how alike a variant's own k samples are (mode collapse shows here)
            for v, d in self_similarity(store).items():
                extra.setdefault(v, {})["self_sim"] = d
    except (ImportError, AttributeError):
        pass
    if role == "referee":
        try:
            from referees.report import referee_table
            for row in referee_table(store):
                name = row.get("referee") or row.get("variant")
                extra.setdefault(name, {}).update({k: v for k, v in row.items() if k not in ("referee", "variant", "mu", "sigma")})
        except (ImportError, AttributeError):
            pass
    return extra


def _print_table(rows: list[dict[str, Any]], cols: list[str], title: str) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.2f}"
        if isinstance(v, dict) and "total" in v:  # a referee's strict accuracy, as `arena referees` shows it
            from arena.cli.referees import strict_share
            return strict_share(v)
        return "-" if v is None else printable(v)  # names from older stores may hold escapes
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols}
    print(title)
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in cols))


def cmd_compare(args: argparse.Namespace) -> int:
    from arena.engine import bradley_terry as bt
    store = open_store(args.run_dir)
    _check_role(args.role)
    if args.lineage is not None:
        if args.a is not None:
            raise UserError("compare takes two variants or --lineage NAME, not both")
        return _compare_lineage(store, args)
    if args.a is None or args.b is None:
        raise UserError("compare needs two variants (arena compare A B) or --lineage NAME")
    if args.a == args.b:
        raise UserError(f"compare needs two different variants, got {printable(args.a[:60])!r} twice")
    known = store.variant_names()
    for name in (args.a, args.b):
        if name not in known:
            raise UserError(f"unknown variant {printable(name[:60])!r} in {args.run_dir} "
                            f"(known: {', '.join(sorted(map(printable, known)))})")
    a, b, where = printable(args.a), printable(args.b), f"family {printable(args.family)}, role {args.role}"
    comps = bt.comparisons(store, role=args.role, family=args.family)
    h = bt.head_to_head_of(comps, args.a, args.b)
    print(f"{a} vs {b} ({where}): {h.wins} wins, {h.losses} losses, {h.draws} draws in {h.matches} matches")
    if h.decisive:
        print(f"{a}'s share of the decisive matches: {h.share:.2f} [{h.lo:.2f}, {h.hi:.2f}] (Wilson 95%)")
    missing = [n for n in (args.a, args.b) if n not in comps.variants]
    if missing:
        print(f"no rated {args.role} matches of {' or '.join(map(printable, missing))} ({where}) yet")
        return 0
    point = bt.strengths(comps.matrix())
    boot = bt.bootstrap_strengths(comps, args.bootstrap, args.seed)
    ia, ib = comps.variants.index(args.a), comps.variants.index(args.b)
    p = float(bt.p_beats(point, ia, ib))
    lo, hi = (float(x) for x in bt.interval(bt.p_beats(boot, ia, ib)))
    print(f"P({a} beats {b}) = {p:.3f} [{lo:.3f}, {hi:.3f}] "
          f"(Bradley-Terry over the whole field, 95% bootstrap over {len(comps.match_ids)} matches)")
    print(_sample_size_line(store, args, h, p, separable=lo > 0.5 or hi < 0.5))
    print(_leader_line(store, args))
    return 0


def _sample_size_line(store: Any, args: argparse.Namespace, h: Any, p_bt: float, separable: bool) -> str:
    """"separable at 95%", or about how many more decisive matches the observed rate needs."""
    from arena.engine.planning import matches_needed
    if separable:
        return "separable at 95% (the interval of P excludes 0.5)"
    observed = h.share if h.decisive else p_bt
    accuracy, judges = _judge_accuracy(store, args)
    note = ""
    if accuracy is not None:
        if accuracy <= 0.5:
            return (f"not separable at 95%: the referees' measured accuracy {accuracy:.2f} is no better than chance, "
                    f"so no number of matches separates them")
        # The observed rate already carries the judge's noise: the true edge is the observed one / (2a - 1).
        true_p = min(1.0, max(0.0, 0.5 + (observed - 0.5) / (2 * accuracy - 1)))
        note = f"; judged by {judges} of measured accuracy {accuracy:.2f}"
    else:
        true_p = observed
        if judges:
            note = f"; judged by {judges} of unmeasured accuracy (a perfect judge assumed)"
    needed = matches_needed(true_p, 0.0, accuracy)
    if needed is None:
        return f"not separable at 95%: the observed record is even, no number of matches would separate them{note}"
    more = needed - h.decisive
    if more <= 0:
        return (f"not separable at 95%, though {h.decisive} decisive matches at the observed rate {observed:.2f} "
                f"would be (the field's fit is less sure than this head-to-head){note}")
    line = f"not separable at 95%: about {more} more decisive matches needed (at the observed rate {observed:.2f}"
    if h.tie_rate > 0:
        total = matches_needed(true_p, h.tie_rate, accuracy) - h.matches
        line += f"; about {max(total, more)} more matches at the observed tie rate {h.tie_rate:.0%}"
    return line + note + ")"


def _judge_accuracy(store: Any, args: argparse.Namespace) -> tuple[float | None, str]:
    """Pooled measured accuracy of the referees that ranked a and b's sets, and who they were."""
    referees: set[str] = set()
    for _, family, rs in store.iter_ranked_sets(role=args.role, family=None if args.family == "*" else args.family):
        names = {e.variant for e in rs.entries}
        if args.a in names and args.b in names:
            for part in rs.ranked_by.split("+"):
                if part.startswith("referees:"):
                    referees.update(x for x in part[len("referees:"):].split(",") if x)
    if not referees:
        return None, ""
    from referees.accuracy import accuracy_by_referee
    counts = accuracy_by_referee(store)
    right = sum(counts[r][0] for r in referees if r in counts)
    total = sum(counts[r][1] for r in referees if r in counts)
    who = "referees " + ", ".join(sorted(map(printable, referees)))
    return (right / total if total else None), who


def _leader_line(store: Any, args: argparse.Namespace) -> str:
    from arena.engine.planning import leader_robustness
    lead = leader_robustness(store, role=args.role, family=args.family)
    if lead is None:
        return "leader: none yet"
    leader, k = lead
    if k == 0:
        return f"leader (family {printable(args.family)}): none, the top is level"
    return (f"leader (family {printable(args.family)}): {printable(leader)}; dropping {k} of its best matches "
            f"(chosen greedily) changes the leader")


def _compare_lineage(store: Any, args: argparse.Namespace) -> int:
    from arena.engine import bradley_terry as bt
    known = store.variant_names()
    name = args.lineage
    if name not in known:
        raise UserError(f"unknown variant {printable(name[:60])!r} in {args.run_dir} "
                        f"(known: {', '.join(sorted(map(printable, known)))})")
    lineage = [name]
    while f"{name}-g{len(lineage)}" in known:
        lineage.append(f"{name}-g{len(lineage)}")
    comps = bt.comparisons(store, role=args.role, family=args.family)
    rated = [v for v in lineage if v in comps.variants]
    if not rated:
        print(f"no rated {args.role} matches of {printable(name)} or its generations yet")
        return 0
    point = bt.strengths(comps.matrix())
    boot = bt.bootstrap_strengths(comps, args.bootstrap, args.seed)
    lo, hi = bt.interval(boot)
    print(f"lineage {printable(name)} (family {printable(args.family)}, role {args.role}): Bradley-Terry strength, "
          f"95% bootstrap interval; each step: P(generation beats its parent)")
    parent = None
    for gen, v in enumerate(lineage):
        if v not in comps.variants:
            print(f"  g{gen} {printable(v)}: no rated matches")
            continue
        k = comps.variants.index(v)
        line = f"  g{gen} {printable(v)}: {point[k]:+.2f} [{lo[k]:+.2f}, {hi[k]:+.2f}]"
        if parent is not None:
            kp = comps.variants.index(parent)
            p = float(bt.p_beats(point, k, kp))
            plo, phi = (float(x) for x in bt.interval(bt.p_beats(boot, k, kp)))
            verdict = ("significantly better" if plo > 0.5 else "significantly worse" if phi < 0.5
                       else "no significant change")
            line += f"  vs {printable(parent)}: P = {p:.2f} [{plo:.2f}, {phi:.2f}], {verdict}"
        print(line)
        parent = v
    return 0
