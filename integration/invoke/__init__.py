"""The request path: a client's request becomes one signed Lambda Invoke (mode, qualifier,
host, headers, body limits, trailers), and Lambda's answer or error comes back."""
