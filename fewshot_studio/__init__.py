"""Few-shot Studio: teach a computer new image classes from a handful of examples.

The Python API lives in :mod:`fewshot_studio.core`; this package also holds the command line
(:mod:`fewshot_studio.cli`) and the window (:mod:`fewshot_studio.gui`).
"""

__version__ = "0.1.0"
