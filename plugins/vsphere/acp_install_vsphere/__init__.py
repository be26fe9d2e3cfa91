"""VMware vSphere provider for acp-install (entry point ``vsphere``)."""
