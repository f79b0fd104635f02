"""TEMPORARY stand-in until the similarity branch lands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def terms(text: str) -> list[str]:
    return [ch for ch in text if ch.isalnum()]


def index_terms(*texts: str) -> str:
    return " ".join(term for text in texts for term in terms(text))


def rank(
    query: Sequence[str], documents: Iterable[tuple[int, str]], *, limit: int = 3, min_score: float = 0.6
) -> list[tuple[int, float]]:
    wanted = set(query)
    scored = []
    for doc_id, stored in documents:
        have = set(stored.split())
        score = len(wanted & have) / max(len(wanted), 1)
        if score >= min_score:
            scored.append((doc_id, score))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]


def warm_up() -> None:
    return None
