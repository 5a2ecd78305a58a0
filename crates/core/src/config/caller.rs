//! The `caller` block: where the filter learns which mesh service called, for the functions
//! that list their callers and for the identity handed to a function.
//!
//! - `{"from": "configured", "service": "api"}`: the direct path. The filter runs in the
//!   caller's own sidecar, so every request's caller is that sidecar's service.
//! - `{"from": "forwarded_client_cert", "untrusted": "refuse" | "ignore"}`: the gateway. The
//!   caller is the identity the gateway's own sidecar vouched for in
//!   `x-forwarded-client-cert`, trusted only from that local hop; a value arriving any other
//!   way is refused (403, the default) or ignored (the request has no known caller).
//!
//! Absent: no caller is known.

use super::error::quote_str;
use super::fields::{Choice, Fields};
use super::ConfigError;
use crate::caller::{is_service_name, MAX_SERVICE_NAME};

/// Where the caller's identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerSource {
    /// The sidecar's own service (direct path): every request's caller.
    Configured { service: String },
    /// The gateway's sidecar's `x-forwarded-client-cert`, trusted only from that local hop.
    ForwardedClientCert { untrusted: Untrusted },
}

/// What happens to an `x-forwarded-client-cert` that did not come from the local hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Untrusted {
    /// The request is refused (403).
    #[default]
    Refuse,
    /// The header is ignored: the request has no known caller.
    Ignore,
}

impl Choice for Untrusted {
    const WHAT: &'static str = "untrusted";
    fn names() -> Vec<&'static str> {
        vec!["refuse", "ignore"]
    }
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "refuse" => Some(Self::Refuse),
            "ignore" => Some(Self::Ignore),
            _ => None,
        }
    }
}

/// Reads the `caller` block (its reader is `caller.`-prefixed).
pub fn read(mut fields: Fields<'_>) -> Result<CallerSource, ConfigError> {
    let from = fields.string("from");
    let service = fields.string("service");
    let untrusted = fields.one_of::<Untrusted>("untrusted");
    fields.finish()?;
    match from? {
        Some("configured") => {
            if untrusted?.is_some() {
                return Err(fields.error(
                    "untrusted",
                    "applies only with from: \"forwarded_client_cert\"",
                ));
            }
            let service = service?.ok_or_else(|| {
                fields.error(
                    "service",
                    "is required with from: \"configured\" (this sidecar's service)",
                )
            })?;
            if !is_service_name(service) {
                return Err(fields.error(
                    "service",
                    format!(
                        "{} is not a service name (1 to {MAX_SERVICE_NAME} letters, digits, '-', '_', '.')",
                        quote_str(service)
                    ),
                ));
            }
            Ok(CallerSource::Configured {
                service: service.to_owned(),
            })
        }
        Some("forwarded_client_cert") => {
            if service?.is_some() {
                return Err(fields.error(
                    "service",
                    "applies only with from: \"configured\" (here the sidecar's certificate names the caller)",
                ));
            }
            Ok(CallerSource::ForwardedClientCert {
                untrusted: untrusted?.unwrap_or_default(),
            })
        }
        Some(other) => Err(fields.error(
            "from",
            format!(
                "unknown value {}, expected configured or forwarded_client_cert",
                quote_str(other)
            ),
        )),
        None => Err(fields.error(
            "from",
            "is required: configured (the direct path) or forwarded_client_cert (the gateway)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{err, parse};
    use super::*;

    const ARN: &str = r#""arn":"arn:aws:lambda:us-east-1:123456789012:function:f""#;

    fn caller(block: &str) -> Result<Option<CallerSource>, ConfigError> {
        parse(&format!(r#"{{{ARN},"caller":{block}}}"#)).map(|c| c.caller)
    }

    fn caller_err(block: &str) -> String {
        err(&format!(r#"{{{ARN},"caller":{block}}}"#))
    }

    #[test]
    fn the_direct_path_names_its_own_service() {
        assert_eq!(
            caller(r#"{"from":"configured","service":"api"}"#).unwrap(),
            Some(CallerSource::Configured {
                service: "api".into()
            })
        );
        assert_eq!(parse(&format!("{{{ARN}}}")).unwrap().caller, None);
    }

    #[test]
    fn the_gateway_trusts_its_sidecar_and_refuses_others_by_default() {
        assert_eq!(
            caller(r#"{"from":"forwarded_client_cert"}"#).unwrap(),
            Some(CallerSource::ForwardedClientCert {
                untrusted: Untrusted::Refuse
            })
        );
        assert_eq!(
            caller(r#"{"from":"forwarded_client_cert","untrusted":"ignore"}"#).unwrap(),
            Some(CallerSource::ForwardedClientCert {
                untrusted: Untrusted::Ignore
            })
        );
    }

    #[test]
    fn a_caller_block_that_cannot_be_meant_is_refused_naming_the_field() {
        for (block, expected) in [
            (r#"{}"#, "caller.from: is required"),
            (
                r#"{"from":"header"}"#,
                "caller.from: unknown value \"header\"",
            ),
            (r#"{"from":"configured"}"#, "caller.service: is required"),
            (
                r#"{"from":"configured","service":"a b"}"#,
                "caller.service: \"a b\" is not a service name",
            ),
            (
                r#"{"from":"configured","service":"api","untrusted":"ignore"}"#,
                "caller.untrusted: applies only",
            ),
            (
                r#"{"from":"forwarded_client_cert","service":"api"}"#,
                "caller.service: applies only",
            ),
            (
                r#"{"from":"forwarded_client_cert","untrusted":"allow"}"#,
                "caller.untrusted: unknown untrusted \"allow\"",
            ),
            (
                r#"{"from":"configured","servce":"api"}"#,
                "caller.servce: unknown field",
            ),
            (r#""api""#, "caller: expected an object"),
        ] {
            let message = caller_err(block);
            let expected = format!("invalid configuration: {expected}");
            assert!(message.starts_with(&expected), "{block}: {message}");
        }
    }
}
