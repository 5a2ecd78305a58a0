"""Consul: the generator's config entries, read back and run in a Consul-shaped sidecar."""
