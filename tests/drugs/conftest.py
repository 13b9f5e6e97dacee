from pathlib import Path

import pytest

from drugs.seed import load_seed, read_seed

MINI = Path(__file__).with_name("mini_catalogue.toml")


@pytest.fixture
def mini_catalogue(db):
    load_seed(read_seed(MINI))
