"""Clients for the two things the engine talks to: the bootstrap cluster and the installer.

Both are imported only by the engine (never at CLI start-up): ``kubernetes`` and ``httpx`` are
heavy, and the offline commands must stay fast.
"""
