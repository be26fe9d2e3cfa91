"""The reference command line, ``acp-install``. Nothing here is public API."""
