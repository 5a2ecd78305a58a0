"""Envoy Gateway: the generated resources, and a Gateway proxy assembled from them."""
