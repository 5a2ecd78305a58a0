"""The credential providers (environment, container endpoint, IMDSv2): which one signs, the
first fetch, caching, refresh and rotation, and what happens when credentials are missing,
bad or out of reach."""
