//! mesh-lambda: a proxy-wasm HTTP filter that turns requests into signed AWS Lambda Invoke
//! calls. The pure core (configuration, ARN, SigV4, request and response mapping,
//! credentials) is plain Rust tested on the host; `filter` is the thin proxy-wasm glue.

pub mod arn;
pub mod config;
pub mod credentials;
pub mod header_pairs;
pub mod invoke;
pub mod local_reply;
pub mod response;
pub mod sigv4;

#[cfg(target_arch = "wasm32")]
mod filter;
