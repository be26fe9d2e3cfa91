"""Huawei DCS provider for acp-install (entry point ``dcs``)."""
