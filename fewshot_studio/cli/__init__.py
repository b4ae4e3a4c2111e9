"""The command line: the studio's pipeline without a window (``fewshot-studio COMMAND ...``).

:mod:`.parser` holds the entry point and the parser, :mod:`.common` what every command shares (messages, loading a
support set, the repeated options as parent parsers, the progress loop), and one module per command group holds
its commands and their options. Importing it is cheap: the engine (torch) is imported by the commands that run.
"""

from .parser import build_parser, main

__all__ = ["build_parser", "main"]
