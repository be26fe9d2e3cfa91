"""The conformance suite itself: its golden and determinism checks can fail, and it is a
registered pytest plugin (each bundled provider runs it from its own test module)."""
