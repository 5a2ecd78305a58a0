//! The plugin configuration: JSON, validated once at configure time into a typed form.
//!
//! Field names follow Envoy's native `aws_lambda` filter so its users can switch by changing
//! one line. Every error names the field and quotes the bad value; the raw configuration is
//! never logged.

use crate::arn::{check_qualifier, parse_function_arn, FunctionArn};
use serde_json::{Map, Value};
use std::fmt;

/// Lambda's request payload limit for synchronous invocations.
pub const SYNC_PAYLOAD_LIMIT: u64 = 6 * 1024 * 1024;
/// Lambda's request payload limit for asynchronous (`Event`) invocations.
pub const ASYNC_PAYLOAD_LIMIT: u64 = 1024 * 1024;

const FIELDS: &[&str] = &[
    "arn",
    "qualifier",
    "invocation_mode",
    "payload_passthrough",
    "host_rewrite",
    "max_request_bytes",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationMode {
    Synchronous,
    Asynchronous,
    DryRun,
}

impl InvocationMode {
    /// The `X-Amz-Invocation-Type` value Lambda expects.
    pub fn invocation_type(self) -> &'static str {
        match self {
            InvocationMode::Synchronous => "RequestResponse",
            InvocationMode::Asynchronous => "Event",
            InvocationMode::DryRun => "DryRun",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "synchronous" | "SYNCHRONOUS" => Some(Self::Synchronous),
            "asynchronous" | "ASYNCHRONOUS" => Some(Self::Asynchronous),
            "dry_run" | "DRY_RUN" => Some(Self::DryRun),
            _ => None,
        }
    }
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterConfig {
    pub arn: FunctionArn,
    /// From the `qualifier` field or the ARN's suffix.
    pub qualifier: Option<String>,
    pub invocation_mode: InvocationMode,
    pub payload_passthrough: bool,
    /// The host the request is sent to and signed for.
    pub host: String,
    pub max_request_bytes: u64,
}

/// A configuration error: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn error(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The value as JSON, shortened so a log line stays a line.
fn quote(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn string_field<'a>(
    map: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ConfigError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(error(
            field,
            format!("expected a string, got {}", quote(other)),
        )),
    }
}

/// Parses and validates the plugin configuration.
pub fn parse_config(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(error("arn", "is required, but the configuration is empty"));
    }
    let root: Value = serde_json::from_slice(bytes)
        .map_err(|e| error("configuration", format!("not valid JSON ({e})")))?;
    let Value::Object(map) = root else {
        return Err(error(
            "configuration",
            format!("expected a JSON object, got {}", quote(&root)),
        ));
    };
    if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(error(
            unknown,
            format!(
                "unknown field \"{unknown}\", expected one of {}",
                FIELDS.join(", ")
            ),
        ));
    }

    let arn_text = string_field(&map, "arn")?.ok_or_else(|| error("arn", "is required"))?;
    let arn = parse_function_arn(arn_text).map_err(|e| {
        error(
            "arn",
            format!("\"{arn_text}\" is not a Lambda function ARN: {e}"),
        )
    })?;

    let qualifier = match (string_field(&map, "qualifier")?, &arn.qualifier) {
        (Some(q), Some(from_arn)) => {
            return Err(error(
                "qualifier",
                format!(
                    "\"{q}\" given, but the arn already ends in qualifier \"{from_arn}\"; give one"
                ),
            ))
        }
        (Some(q), None) => {
            check_qualifier(q).map_err(|e| error("qualifier", format!("\"{q}\": {e}")))?;
            Some(q.to_owned())
        }
        (None, from_arn) => from_arn.clone(),
    };

    let invocation_mode = match string_field(&map, "invocation_mode")? {
        None => InvocationMode::Synchronous,
        Some(s) => InvocationMode::parse(s).ok_or_else(|| {
            error(
                "invocation_mode",
                format!(
                    "unknown value \"{s}\", expected one of synchronous, asynchronous, dry_run"
                ),
            )
        })?,
    };

    let payload_passthrough = match map.get("payload_passthrough") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => true,
        Some(Value::Bool(false)) => {
            return Err(error(
                "payload_passthrough",
                "false is not supported yet: only the raw payload (true) is sent to Lambda",
            ))
        }
        Some(other) => {
            return Err(error(
                "payload_passthrough",
                format!("expected true or false, got {}", quote(other)),
            ))
        }
    };

    let host = match string_field(&map, "host_rewrite")? {
        None => format!("lambda.{}.amazonaws.com", arn.region),
        Some(h) if is_valid_host(h) => h.to_ascii_lowercase(),
        Some(h) => {
            return Err(error(
                "host_rewrite",
                format!("\"{h}\" is not a host name (letters, digits, '.', '-', optional :port)"),
            ))
        }
    };

    let max_request_bytes = match map.get("max_request_bytes") {
        None | Some(Value::Null) => match invocation_mode {
            InvocationMode::Asynchronous => ASYNC_PAYLOAD_LIMIT,
            _ => SYNC_PAYLOAD_LIMIT,
        },
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 && n <= u64::from(u32::MAX) => n,
            _ => {
                return Err(error(
                    "max_request_bytes",
                    format!(
                        "expected a positive whole number of bytes, got {}",
                        quote(v)
                    ),
                ))
            }
        },
    };

    Ok(FilterConfig {
        arn,
        qualifier,
        invocation_mode,
        payload_passthrough,
        host,
        max_request_bytes,
    })
}

fn is_valid_host(h: &str) -> bool {
    let (name, port) = match h.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (h, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    name_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";

    fn parse(json: &str) -> Result<FilterConfig, ConfigError> {
        parse_config(json.as_bytes())
    }

    fn err(json: &str) -> String {
        parse(json).unwrap_err().to_string()
    }

    #[test]
    fn defaults_follow_lambda() {
        let c = parse(&format!(r#"{{"arn":"{ARN}"}}"#)).unwrap();
        assert_eq!(c.invocation_mode, InvocationMode::Synchronous);
        assert!(c.payload_passthrough);
        assert_eq!(c.host, "lambda.us-east-1.amazonaws.com");
        assert_eq!(c.max_request_bytes, 6 * 1024 * 1024);
        assert_eq!(c.qualifier, None);
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","invocation_mode":"ASYNCHRONOUS"}}"#
        ))
        .unwrap();
        assert_eq!(c.invocation_mode, InvocationMode::Asynchronous);
        assert_eq!(c.max_request_bytes, 1024 * 1024);
    }

    #[test]
    fn accepts_every_field() {
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","qualifier":"live","invocation_mode":"dry_run","payload_passthrough":true,
                "host_rewrite":"Lambda.example.test:8443","max_request_bytes":1000}}"#
        ))
        .unwrap();
        assert_eq!(c.qualifier.as_deref(), Some("live"));
        assert_eq!(c.invocation_mode, InvocationMode::DryRun);
        assert_eq!(c.host, "lambda.example.test:8443");
        assert_eq!(c.max_request_bytes, 1000);
    }

    #[test]
    fn qualifier_from_the_arn() {
        let c = parse(&format!(r#"{{"arn":"{ARN}:7"}}"#)).unwrap();
        assert_eq!(c.qualifier.as_deref(), Some("7"));
        assert_eq!(c.arn.function_arn, ARN);
    }

    #[test]
    fn errors_name_the_field_and_quote_the_value() {
        let cases: &[(&str, &[&str])] = &[
            ("", &["arn", "required"]),
            ("{}", &["arn: is required"]),
            ("[1]", &["configuration", "JSON object", "[1]"]),
            ("{nope", &["configuration", "not valid JSON"]),
            (r#"{"arn":"not-an-arn"}"#, &["arn:", "\"not-an-arn\""]),
            (
                r#"{"arn":"arn:aws:s3:::bucket"}"#,
                &["arn:", "\"arn:aws:s3:::bucket\""],
            ),
            (r#"{"arn":5}"#, &["arn:", "expected a string, got 5"]),
            (
                &format!(r#"{{"arn":"{ARN}","arnn":1}}"#),
                &["arnn:", "unknown field \"arnn\""],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","invocation_mode":"sideways"}}"#),
                &["invocation_mode:", "\"sideways\""],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","payload_passthrough":"yes"}}"#),
                &["payload_passthrough:", "\"yes\""],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","payload_passthrough":false}}"#),
                &["payload_passthrough:", "false"],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","max_request_bytes":"big"}}"#),
                &["max_request_bytes:", "\"big\""],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","max_request_bytes":-1}}"#),
                &["max_request_bytes:", "-1"],
            ),
            (
                &format!(r#"{{"arn":"{ARN}:live","qualifier":"7"}}"#),
                &["qualifier:", "\"7\"", "\"live\""],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","qualifier":"a/b"}}"#),
                &["qualifier:", "\"a/b\""],
            ),
            (
                &format!(r#"{{"arn":"{ARN}","host_rewrite":"a b"}}"#),
                &["host_rewrite:", "\"a b\""],
            ),
        ];
        for (json, needles) in cases {
            let msg = err(json);
            assert!(msg.starts_with("invalid configuration: "), "{msg}");
            for n in *needles {
                assert!(msg.contains(n), "{json}: {msg:?} lacks {n:?}");
            }
        }
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(500);
        let msg = err(&format!(
            r#"{{"arn":"{ARN}","max_request_bytes":"{long}"}}"#
        ));
        assert!(msg.len() < 200, "{msg}");
    }
}
