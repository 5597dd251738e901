"""The needs' and projects' fixtures, for the tests in this folder.

pytest only loads conftest files from a test's own folder and its parents, so the shared
fixtures of tests/needs and tests/projects are imported here by name.
"""

from tests.needs.conftest import make_need, need  # noqa: F401
from tests.projects.conftest import make_project, rights_area  # noqa: F401
