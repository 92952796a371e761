"""A game whose own import fails: it needs a package that is not installed."""

import retro_gamer_test_missing_dependency  # noqa: F401  (the error under test)


def create_game():
    raise AssertionError("never reached: the import above fails")
