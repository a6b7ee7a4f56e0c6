"""kgrec: a knowledge-graph-centric, multimodal recommender backed by Neo4j."""

from kgrec.errors import KgrecError

__version__ = "0.1.0"
__all__ = ["KgrecError", "__version__"]
