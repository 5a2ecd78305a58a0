"""What operators see: the filter's metrics in Envoy's /stats, scenario by scenario."""
