"""Bare Metal provider for acp-install (entry point ``baremetal``)."""
