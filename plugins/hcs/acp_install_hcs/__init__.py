"""Huawei Cloud Stack (HCS) provider for acp-install (entry point ``hcs``)."""
