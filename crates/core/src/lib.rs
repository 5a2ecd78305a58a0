//! mesh-lambda's pure core: configuration, ARN, SigV4, the Invoke mapping, credentials, and
//! the request flow and credential agent written against the traits of `host`. No proxy-wasm
//! here (the crate does not depend on it): the filter crate implements `host` over Envoy's
//! host calls, and the tests here implement it with fakes.

#![forbid(unsafe_code)]

mod logging;

pub mod access_keys;
pub mod arn;
pub mod caller;
pub mod config;
pub mod credentials;
pub mod event;
pub mod host;
/// The serialized header map (its own crate, compiled for speed).
pub use mesh_lambda_header_pairs as header_pairs;
pub mod invocation_mode;
pub mod invoke;
pub mod local_reply;
pub mod metrics;
pub mod recent;
pub mod redact;
pub mod request;
pub mod response;
pub mod sigv4;
pub mod streaming;
pub mod vm;
pub mod xml;
