"""The Browser test draws the reasons of the film world's model (trained once per session)."""

from tests.recommend.conftest import world_bundle  # noqa: F401
