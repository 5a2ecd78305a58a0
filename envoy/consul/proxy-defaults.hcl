# Consul generates the sidecar's Envoy config, so the clusters the filter fetches credentials
# through (the filter's defaults: aws_container_credentials, aws_instance_metadata) are added
# with Consul's escape hatch. Apply with: consul config write proxy-defaults.hcl
# Keep only the cluster for where your proxies run (ECS task role, or EC2 instance profile).
Kind = "proxy-defaults"
Name = "global"
Config {
  envoy_extra_static_clusters_json = <<EOT
{
  "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  "name": "aws_container_credentials",
  "type": "STATIC",
  "connect_timeout": "1s",
  "load_assignment": {
    "cluster_name": "aws_container_credentials",
    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "169.254.170.2", "port_value": 80}}}}]}]
  }
},
{
  "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
  "name": "aws_instance_metadata",
  "type": "STATIC",
  "connect_timeout": "1s",
  "load_assignment": {
    "cluster_name": "aws_instance_metadata",
    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "169.254.169.254", "port_value": 80}}}}]}]
  }
}
EOT
}
