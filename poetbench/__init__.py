"""poetbench: how well does a language model imitate a poet?"""

__version__ = "0.1.0"
