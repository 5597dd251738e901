"""Small shared pieces: sizes, weighted picking, Chinese names and valid-looking numbers."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass

from . import words

# bench-worker's needs: exactly this many, in a mix of states.
BENCH_NEEDS = 50


@dataclass(frozen=True)
class Sizes:
    """How big the generated district is."""

    members: int
    needs: int
    units: int
    projects: int
    streets: int
    workstations: int


FULL = Sizes(
    members=500_000, needs=1_000_000, units=10_000, projects=20_000, streets=30, workstations=300
)
SMALL = Sizes(
    members=20_000, needs=50_000, units=2_000, projects=1_000, streets=30, workstations=300
)


class Picker:
    """Weighted choice in O(log n): cumulative weights and a bisection."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into whole parts proportional to ``weights`` (they sum to ``total``)."""
    whole = sum(weights)
    counts, running, given = [], 0.0, 0
    for weight in weights:
        running += weight
        upto = round(total * running / whole)
        counts.append(upto - given)
        given = upto
    return counts


def recency(rng: random.Random, growth: float) -> float:
    """A point of [0, 1) whose density grows as e^(growth·x): more activity lately."""
    return math.log1p(rng.random() * math.expm1(growth)) / growth


# --- people ------------------------------------------------------------------------------

SURNAME_PICKER = Picker([(s, p) for s, p, _ in words.SURNAMES], [w for _, _, w in words.SURNAMES])


def person(rng: random.Random) -> tuple[str, str, bool]:
    """A made-up Chinese name, its pinyin login stem and whether the person is male."""
    male = rng.random() < 0.55
    surname, surname_py = SURNAME_PICKER.pick(rng)
    pool = words.GIVEN_MALE if male else words.GIVEN_FEMALE
    first = rng.choice(pool)
    if rng.random() < 0.72:
        second = rng.choice(pool)
        return surname + first[0] + second[0], f"{surname_py}.{first[1]}{second[1]}", male
    return surname + first[0], f"{surname_py}.{first[1]}", male


# --- numbers that pass for real ones --------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643 check digit (ISO 7064 MOD 11-2) of a resident ID number."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(prefix: str, region: str, serial: int) -> str:
    """A unified social credit code (GB 32100) whose check characters are right."""
    body = f"{serial:08d}"
    org_check = 11 - sum(int(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    org = body + {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = prefix + region + org
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return first17 + CREDIT_CHARS[(31 - total % 31) % 31]


class Scramble:
    """A bijection of 0..modulus-1, so consecutive indexes give unrelated-looking numbers."""

    def __init__(self, modulus: int, rng: random.Random):
        self.modulus = modulus
        while True:
            factor = rng.randrange(modulus // 3, modulus - 1)
            if math.gcd(factor, modulus) == 1:
                break
        self.factor, self.offset = factor, rng.randrange(modulus)

    def __call__(self, index: int) -> int:
        return (index * self.factor + self.offset) % self.modulus
