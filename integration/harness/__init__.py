"""Test harness for mesh-lambda's end-to-end tests: moto, the capture hop, Envoy."""
