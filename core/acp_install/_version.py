"""The distribution's version, importable without ``importlib.metadata`` (which costs more than
the whole ``--version`` budget); tests/test_cli.py checks it equals the installed metadata."""

__version__ = "0.1.0"
