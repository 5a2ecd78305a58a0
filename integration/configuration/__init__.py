"""The configuration: a bad plugin configuration stops Envoy at start, and the Envoy configs
the project ships validate."""
