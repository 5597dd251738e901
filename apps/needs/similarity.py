"""Text similarity for Chinese needs: character bigrams, no word segmentation.

Chinese has no spaces between words, and a word segmenter is a large dependency
whose dictionary misses the trade vocabulary workers use (欠薪, 社保断缴, 调休 …).
Overlapping character pairs capture most of it: "拖欠工资" and "工资被拖欠" share
工资 and 拖欠 although the word order differs.

The score is the cosine of the two texts' bigram *count* vectors: 1.0 for the
same wording, 0.0 for nothing in common. Counting (rather than a set Jaccard)
lets the words a worker repeats — 工资 three times in a wage claim — weigh more,
and the cosine does not punish a long draft against a short summary as hard.

A few bigrams that appear in almost every need (我们, 希望, 工会 …) are ignored,
so that two unrelated complaints do not look alike merely for being complaints.

Used by the worker's "similar needs" step (against the cadre-written public text
only) and by the cadres' duplicate search (against the full text).
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

# Bigrams so common in needs that sharing them says nothing about the problem.
STOP_BIGRAMS = frozenset(
    {
        "我们", "希望", "问题", "工会", "职工", "公司", "企业", "单位", "反映", "请求", "要求",
        "没有", "一个", "什么", "可以", "能否", "是否", "我的", "你们", "他们",
        "现在", "已经", "一直", "情况", "帮助", "解决", "了解", "谢谢", "您好", "目前",
    }
)  # fmt: skip


# Calibrated on hand-made needs (tests/needs/test_similarity.py): texts about
# different problems score below 0.06, neighbouring problems (overtime pay
# against late wages) about 0.1, two wordings of the same problem 0.15–0.5.
MIN_SCORE = 0.15


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, and only letters and digits kept."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def bigrams(text: str) -> Counter[str]:
    """How often each overlapping character pair occurs in ``text``, stop bigrams removed.

    A one-character text yields that character, so it can still match something.
    """
    chars = normalize(text)
    if len(chars) == 1:
        return Counter(chars)
    pairs = (chars[i : i + 2] for i in range(len(chars) - 1))
    return Counter(pair for pair in pairs if pair not in STOP_BIGRAMS)


def similarity(a: str | Counter[str], b: str | Counter[str]) -> float:
    """Cosine of two texts' bigram counts, between 0.0 and 1.0."""
    grams_a = a if isinstance(a, Counter) else bigrams(a)
    grams_b = b if isinstance(b, Counter) else bigrams(b)
    if not grams_a or not grams_b:
        return 0.0
    if len(grams_a) > len(grams_b):
        grams_a, grams_b = grams_b, grams_a
    dot = sum(count * grams_b[gram] for gram, count in grams_a.items())
    norm_a = math.sqrt(sum(count * count for count in grams_a.values()))
    norm_b = math.sqrt(sum(count * count for count in grams_b.values()))
    return min(1.0, dot / (norm_a * norm_b))


def need_text(need) -> str:
    """The full text of a need (cadres' duplicate search)."""
    return f"{need.title} {need.description}"


def public_text(need) -> str:
    """The cadre-written public text of a published need (what any worker may see)."""
    return f"{need.public_title} {need.public_summary}"


def rank_similar(
    text: str,
    candidates: Iterable[T],
    *,
    key: Callable[[T], str] = need_text,
    limit: int = 5,
    min_score: float = MIN_SCORE,
) -> list[tuple[T, float]]:
    """The candidates most similar to ``text``, best first, as ``(candidate, score)``.

    ``key`` gives the text of a candidate: ``need_text`` (the default) compares
    with the worker's own words, ``public_text`` with what was published — use the
    latter whenever the person typing may not read the candidates' full text, so
    that the ranking cannot be used to probe private descriptions.

    Candidates scoring below ``min_score`` are dropped; ties keep the candidates'
    order (pass them newest first to prefer recent needs).
    """
    grams = bigrams(text)
    if not grams:
        return []
    scored = []
    for index, candidate in enumerate(candidates):
        score = similarity(grams, bigrams(key(candidate)))
        if score >= min_score:
            scored.append((-score, index, candidate))
    scored.sort(key=lambda row: (row[0], row[1]))
    return [(candidate, -negative) for negative, _, candidate in scored[:limit]]
