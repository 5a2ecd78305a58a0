//! The connection manager's `local_reply_config` of a listener the generator owns (Consul's):
//! the answers Envoy itself gives on the way to Lambda (no connection, a reset before the
//! answer, the route's timeout) and its 503 while the filter's VM is down (after a crash), as
//! JSON in the filter's shape, instead of Envoy's plain text.
//! The same as `envoy/local.yaml` and `envoy/sidecar.yaml` carry.
//!
//! Istio and Envoy Gateway do not get it: their patches reach a listener every route of the
//! mesh or gateway shares, and a mapper there would rewrite other services' 503s and 504s
//! too (a mapper's filter sees response flags, not the route).

use mesh_lambda_core::local_reply::ReplyCode;
use serde_json::{json, Value};

/// Mappers on response flags and Envoy's details for a failed VM only: the filter's own
/// replies carry neither and pass unchanged.
pub fn local_reply_config() -> Value {
    json!({"mappers": [
        {
            "filter": {"response_flag_filter": {"flags": ["UT"]}},
            "body_format_override": {"json_format": {
                "error": ReplyCode::LambdaTimeout.as_str(),
                "message": "Lambda did not answer within the route's timeout (%RESPONSE_CODE_DETAILS%)",
            }},
        },
        {
            "filter": {"response_flag_filter": {"flags": ["UF", "UH", "UO", "UC", "UR", "URX"]}},
            "body_format_override": {"json_format": {
                "error": ReplyCode::LambdaUnreachable.as_str(),
                "message": "no answer from Lambda: the connection failed or was reset (%RESPONSE_FLAGS%: %RESPONSE_CODE_DETAILS%)",
            }},
        },
        {
            "filter": {"extension_filter": {
                "name": "envoy.access_loggers.extension_filters.cel",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                    "expression": "response.code_details == 'wasm_fail_stream'",
                },
            }},
            "body_format_override": {"json_format": {
                "error": "FilterUnavailable",
                "message": "the mesh-lambda filter is not running (its VM crashed or could not start); nothing was sent to Lambda",
            }},
        },
    ]})
}
