"""The harness proven without the filter: the signature check, the credential stand-ins, the
capture hop, moto and Envoy. A failure here is a harness problem, not a filter problem."""
