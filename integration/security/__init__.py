"""Secrets (secret keys, session, container and IMDSv2 tokens) stay out of Envoy's log."""
