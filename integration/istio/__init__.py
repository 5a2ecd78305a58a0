"""Istio: the generated resources, and a sidecar assembled from them as istiod would."""
