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

use super::error::{quote, quote_str};
use super::fields::{Choice, Fields};
use super::ConfigError;
use crate::caller::allowed::{AllowedCaller, EntryError};
use crate::caller::{is_service_name, MAX_SERVICE_NAME};
use serde_json::Value;

/// The most entries a `callers` list holds (each request may compare its caller with all).
pub const MAX_CALLERS: usize = 64;

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

/// Reads a function's `callers` (its JSON value, if given), which needs the caller's identity
/// from the gateway's sidecar (`caller.from: forwarded_client_cert`): a configured service is
/// the same for every request, so a list to check it against means nothing.
pub fn read_callers(
    fields: &Fields<'_>,
    value: Option<&Value>,
    source: Option<&CallerSource>,
) -> Result<Option<Vec<AllowedCaller>>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if !matches!(source, Some(CallerSource::ForwardedClientCert { .. })) {
        return Err(fields.error(
            "callers",
            "needs caller.from: \"forwarded_client_cert\" (the gateway, where the sidecar's \
             certificate names each request's caller); with a configured service every \
             request has the same caller, so a list to check it against means nothing",
        ));
    }
    let entries = match value {
        Value::Array(entries) if (1..=MAX_CALLERS).contains(&entries.len()) => entries,
        other => {
            return Err(fields.error(
                "callers",
                format!(
                    "expected a list of 1 to {MAX_CALLERS} service names or SPIFFE IDs, got {}",
                    quote(other)
                ),
            ))
        }
    };
    let mut list = Vec::with_capacity(entries.len());
    for entry in entries {
        let parsed = entry
            .as_str()
            .ok_or(EntryError::NotAServiceName)
            .and_then(AllowedCaller::parse);
        let allowed = parsed.map_err(|e| {
            let why = match e {
                EntryError::NotAServiceName => format!(
                    "is not a service name (1 to {MAX_SERVICE_NAME} letters, digits, '-', '_', \
                     '.') or a SPIFFE ID"
                ),
                EntryError::NotAServiceId(e) => format!("is not a Consul service's SPIFFE ID: {e}"),
            };
            fields.error("callers", format!("{} {why}", quote(entry)))
        })?;
        if list.contains(&allowed) {
            return Err(fields.error("callers", format!("{} is listed twice", quote(entry))));
        }
        list.push(allowed);
    }
    Ok(Some(list))
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

    fn callers(json: &str) -> Result<Option<Vec<AllowedCaller>>, ConfigError> {
        parse(json).map(|c| c.callers)
    }

    const GATEWAY: &str = r#""caller":{"from":"forwarded_client_cert"}"#;

    #[test]
    fn a_function_lists_its_callers_by_name_or_spiffe_id() {
        let id = "spiffe://td.consul/ap/eu/ns/team/dc/dc1/svc/api";
        assert_eq!(
            callers(&format!(r#"{{{ARN},{GATEWAY},"callers":["api","{id}"]}}"#)).unwrap(),
            Some(vec![
                AllowedCaller::Service("api".into()),
                AllowedCaller::SpiffeId(id.into())
            ])
        );
        assert_eq!(callers(&format!("{{{ARN},{GATEWAY}}}")).unwrap(), None);
    }

    #[test]
    fn a_callers_list_that_cannot_be_meant_is_refused() {
        let many: Vec<String> = (0..=MAX_CALLERS).map(|i| format!("\"s{i}\"")).collect();
        let many = many.join(",");
        for (json, expected) in [
            (
                format!(r#"{{{ARN},"callers":["api"]}}"#),
                "callers: needs caller.from: \"forwarded_client_cert\"",
            ),
            (
                format!(
                    r#"{{{ARN},"caller":{{"from":"configured","service":"web"}},"callers":["api"]}}"#
                ),
                "callers: needs caller.from",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":[]}}"#),
                "callers: expected a list of 1 to 64",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":"api"}}"#),
                "callers: expected a list",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":[{many}]}}"#),
                "callers: expected a list of 1 to 64",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":["a b"]}}"#),
                "callers: \"a b\" is not a service name",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":[7]}}"#),
                "callers: 7 is not a service name",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":["spiffe://td/gateway/mesh/dc/x"]}}"#),
                "callers: \"spiffe://td/gateway/mesh/dc/x\" is not a Consul service's SPIFFE ID",
            ),
            (
                format!(r#"{{{ARN},{GATEWAY},"callers":["api","api"]}}"#),
                "callers: \"api\" is listed twice",
            ),
        ] {
            let message = err(&json);
            let expected = format!("invalid configuration: {expected}");
            assert!(message.starts_with(&expected), "{json}: {message}");
        }
    }
}
