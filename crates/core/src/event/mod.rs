//! Event formats (`payload_passthrough: false`): the request becomes a JSON event the
//! function parses, and the function's result (a JSON object) becomes the HTTP response.
//! One module per format; `result` reads what the formats share; `response` writes the
//! response a result stands for.

pub mod api_gateway_v2;
pub mod base64;
pub mod envoy;
pub mod path;
pub mod response;
pub mod result;

use crate::caller::Caller;
use std::rc::Rc;

/// The event format, for `payload_passthrough: false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadFormat {
    /// What Envoy's native `aws_lambda` filter sends (and Consul's Lambda extension).
    #[default]
    Envoy,
    /// API Gateway HTTP API / function URL, payload format 2.0: what Lambda frameworks parse.
    ApiGatewayV2,
}

/// What an event needs beyond the request's headers and body: Envoy's view of the request
/// and the function's account.
#[derive(Debug, Clone, Default)]
pub struct EventContext {
    pub account_id: String,
    /// The peer's address, from Envoy (not from a header).
    pub source_ip: String,
    /// `HTTP/1.1`, `HTTP/2`, from Envoy.
    pub protocol: String,
    pub now_ms: u64,
    /// The mesh caller, when known (`api_gateway_v2`: `requestContext.authorizer.lambda`).
    pub caller: Option<Rc<Caller>>,
}

impl PayloadFormat {
    pub const ALL: [PayloadFormat; 2] = [PayloadFormat::Envoy, PayloadFormat::ApiGatewayV2];

    pub fn name(self) -> &'static str {
        match self {
            PayloadFormat::Envoy => "envoy",
            PayloadFormat::ApiGatewayV2 => "api_gateway_v2",
        }
    }

    /// Whether the event needs `EventContext` from the host (attributes, the clock).
    pub fn needs_context(self) -> bool {
        self == PayloadFormat::ApiGatewayV2
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The event for a request (its serialized headers and its body, `None` when it ended at
    /// its headers), its path without `path_prefix` (`path::without_prefix`).
    pub fn request_event(
        self,
        headers: &[u8],
        body: Option<&[u8]>,
        context: &EventContext,
        path_prefix: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        match self {
            PayloadFormat::Envoy => envoy::request_event(headers, body, path_prefix),
            PayloadFormat::ApiGatewayV2 => {
                api_gateway_v2::request_event(headers, body, context, path_prefix)
            }
        }
    }

    /// The response a function's result stands for.
    pub fn function_result(
        self,
        body: &[u8],
    ) -> Result<result::FunctionResult, result::MalformedResult> {
        match self {
            PayloadFormat::Envoy => envoy::function_result(body),
            PayloadFormat::ApiGatewayV2 => api_gateway_v2::function_result(body),
        }
    }
}

/// Lambda's limit on a synchronous function's result.
pub const RESULT_LIMIT_BYTES: usize = 6 * 1024 * 1024;
