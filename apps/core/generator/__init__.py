"""A large, realistic, consistent district for benchmarking (``manage.py generate_district``).

The generated district has streets and zones, grid workstations, employers of every
ownership type, cadres, reviewers and workers, then two years of needs — every
state, with the timeline the services would have written, ratings, supports,
referrals, merges, reminders and escalations — and service projects in every
stage with indicators, reviews and rewards, linked to the needs they answer.

Rows are built in Python and streamed to the database in batches (COPY on
PostgreSQL), never through the ORM: no signals, no audit history, no
notifications. The same seed and the same ``now`` give the same data.
"""

from .common import FULL, SMALL, Sizes
from .district import ACCOUNTS, Outcome, check_empty, generate, load_reference_data
from .writer import GeneratorError

__all__ = [
    "ACCOUNTS",
    "FULL",
    "SMALL",
    "GeneratorError",
    "Outcome",
    "Sizes",
    "check_empty",
    "generate",
    "load_reference_data",
]
