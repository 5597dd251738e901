"""Character-bigram similarity of Chinese need texts (no database needed)."""

from dataclasses import dataclass

import pytest

from apps.needs.similarity import (
    MIN_SCORE,
    bigrams,
    normalize,
    public_text,
    rank_similar,
    similarity,
)


@dataclass
class Draft:
    title: str
    description: str
    public_title: str = ""
    public_summary: str = ""


WAGES = Draft("部分企业拖欠职工工资", "多家小微企业存在拖欠工资现象，职工希望工会帮助追讨。")
LATE_PAY = Draft("园区企业工资发放不及时", "多名职工反映工资经常推迟半个月以上发放。")
CANTEEN = Draft("单位食堂饭菜价格偏高", "职工反映食堂饭菜价格偏高、卫生条件差。")
BOOKS = Draft("希望延长职工书屋开放时间", "职工书屋周末不开放，下班后也借不到书。")
TRAINING = Draft("想参加电工技能培训", "我想考电工证，工会有没有免费的技能培训班？")
ASSEMBLY = Draft("企业未召开职代会", "公司好几年没开职工代表大会了，重大事项也不公开。")
CANDIDATES = [CANTEEN, BOOKS, TRAINING, ASSEMBLY, LATE_PAY, WAGES]

CLAIM = "公司拖欠三个月工资 车间二十多名职工的工资从八月起一直没有发放，我们多次找老板都说没钱。"


def test_normalize_keeps_letters_and_digits_only():
    assert normalize("公司，拖欠！ＡＢＣ１２３ 工资？\n") == "公司拖欠abc123工资"


def test_bigrams_count_pairs_and_drop_stop_pairs():
    grams = bigrams("工资工资，我们")
    assert grams["工资"] == 2 and grams["资工"] == 1
    assert "我们" not in grams
    assert bigrams("欠") == {"欠": 1}
    assert not bigrams("，。！")


def test_similarity_bounds():
    assert similarity(CLAIM, CLAIM) == pytest.approx(1.0)
    assert similarity(CLAIM, "") == 0.0
    assert similarity("拖欠工资", "拖欠工资！") == pytest.approx(1.0)  # punctuation ignored
    assert similarity(CLAIM, CANTEEN.title) == 0.0


def test_wage_arrears_rank_above_everything_else():
    ranked = rank_similar(CLAIM, CANDIDATES)
    assert {draft.title for draft, _ in ranked} == {WAGES.title, LATE_PAY.title}
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(score >= MIN_SCORE for score in scores)


def test_different_problems_stay_below_the_threshold():
    unrelated = [CANTEEN, BOOKS, TRAINING, ASSEMBLY]
    for i, a in enumerate(unrelated):
        for b in unrelated[i + 1 :]:
            assert similarity(f"{a.title}{a.description}", f"{b.title}{b.description}") < MIN_SCORE


def test_limit_and_min_score():
    assert len(rank_similar(CLAIM, CANDIDATES, limit=1)) == 1
    assert rank_similar(CLAIM, CANDIDATES, min_score=0.99) == []
    assert rank_similar("", CANDIDATES) == []


def test_ties_keep_the_candidates_order():
    twins = [Draft("拖欠工资", "a"), Draft("拖欠工资", "a")]
    ranked = rank_similar("拖欠工资", twins)
    assert [d for d, _ in ranked] == twins


def test_a_custom_key_compares_with_the_public_wording():
    secret = Draft("资金紧张", "老板说资金紧张", public_title="部分企业拖欠工资", public_summary="")
    assert rank_similar("老板说资金紧张", [secret], key=public_text) == []
    assert rank_similar("拖欠工资", [secret], key=public_text)[0][0] is secret
