"""wikirec: entity embeddings and recommendations from a Wikipedia dump."""

__version__ = "0.1.0"
