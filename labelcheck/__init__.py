"""labelcheck: does published media carry the AI label that applies to it, and is that label intact?"""

__version__ = "0.1.0"
