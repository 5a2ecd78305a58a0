//! The plugin configuration: JSON, validated once at configure time into a typed form.
//!
//! Field names follow Envoy's native `aws_lambda` filter so its users can switch by changing
//! one line. Every error names the field and quotes the bad value; the raw configuration is
//! never logged.

mod error;

pub use error::ConfigError;

use crate::arn::{check_qualifier, parse_function_arn, FunctionArn};
use crate::credentials::chain::{ChainSettings, Provider};
use crate::invoke::InvocationMode;
use error::quote;
use serde_json::{Map, Value};

const FIELDS: &[&str] = &[
    "arn",
    "qualifier",
    "invocation_mode",
    "payload_passthrough",
    "host_rewrite",
    "max_request_bytes",
    "credentials",
];

const CREDENTIAL_FIELDS: &[&str] = &[
    "provider",
    "providers",
    "container_cluster",
    "instance_metadata_cluster",
    "refresh_margin_seconds",
    "max_wait_ms",
    "fetch_timeout_ms",
    "imds_token_ttl_seconds",
];

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
    pub credentials: CredentialSettings,
}

/// The `credentials` block: which providers, through which clusters, refreshed when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSettings {
    pub chain: ChainSettings,
    /// Refresh this long before the credentials expire.
    pub refresh_margin_seconds: u64,
    /// How long a request waits for credentials that are being fetched.
    pub max_wait_ms: u64,
    /// Timeout of each metadata callout.
    pub fetch_timeout_ms: u64,
}

impl Default for CredentialSettings {
    fn default() -> Self {
        Self {
            chain: ChainSettings::default(),
            refresh_margin_seconds: 300,
            max_wait_ms: 5000,
            fetch_timeout_ms: 2000,
        }
    }
}

fn error(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(field, message)
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
        None => InvocationMode::default(),
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
        None | Some(Value::Null) => invocation_mode.payload_limit(),
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

    let credentials = match map.get("credentials") {
        None | Some(Value::Null) => CredentialSettings::default(),
        Some(Value::Object(block)) => parse_credentials(block)?,
        Some(other) => {
            return Err(error(
                "credentials",
                format!("expected an object, got {}", quote(other)),
            ))
        }
    };

    Ok(FilterConfig {
        arn,
        qualifier,
        invocation_mode,
        payload_passthrough,
        host,
        max_request_bytes,
        credentials,
    })
}

fn parse_credentials(block: &Map<String, Value>) -> Result<CredentialSettings, ConfigError> {
    if let Some(unknown) = block
        .keys()
        .find(|k| !CREDENTIAL_FIELDS.contains(&k.as_str()))
    {
        return Err(error(
            &format!("credentials.{unknown}"),
            format!(
                "unknown field \"{unknown}\", expected one of {}",
                CREDENTIAL_FIELDS.join(", ")
            ),
        ));
    }
    let mut settings = CredentialSettings::default();
    let provider_names = || {
        Provider::ALL
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let parse_provider = |field: &str, v: &Value| -> Result<Provider, ConfigError> {
        v.as_str().and_then(Provider::parse).ok_or_else(|| {
            error(
                field,
                format!(
                    "unknown provider {}, expected one of {}",
                    quote(v),
                    provider_names()
                ),
            )
        })
    };
    match (block.get("provider"), block.get("providers")) {
        (Some(_), Some(_)) => {
            return Err(error(
                "credentials.provider",
                "give either provider (one source) or providers (a list), not both",
            ))
        }
        (Some(one), None) => {
            settings.chain.providers = vec![parse_provider("credentials.provider", one)?];
        }
        (None, Some(Value::Array(list))) if !list.is_empty() => {
            let mut providers = Vec::new();
            for v in list {
                let p = parse_provider("credentials.providers", v)?;
                if providers.contains(&p) {
                    return Err(error(
                        "credentials.providers",
                        format!("{} is listed twice", quote(v)),
                    ));
                }
                providers.push(p);
            }
            settings.chain.providers = providers;
        }
        (None, Some(other)) => {
            return Err(error(
                "credentials.providers",
                format!(
                    "expected a non-empty list of provider names, got {}",
                    quote(other)
                ),
            ))
        }
        (None, None) => {}
    }
    for (field, target) in [
        ("container_cluster", &mut settings.chain.container_cluster),
        (
            "instance_metadata_cluster",
            &mut settings.chain.instance_metadata_cluster,
        ),
    ] {
        if let Some(name) = string_field(block, field).map_err(|e| prefixed(e, "credentials"))? {
            if name.trim().is_empty() {
                return Err(error(&format!("credentials.{field}"), "must not be empty"));
            }
            *target = name.to_owned();
        }
    }
    for (field, target, max) in [
        (
            "refresh_margin_seconds",
            &mut settings.refresh_margin_seconds,
            43_200,
        ),
        ("max_wait_ms", &mut settings.max_wait_ms, 600_000),
        ("fetch_timeout_ms", &mut settings.fetch_timeout_ms, 60_000),
        (
            "imds_token_ttl_seconds",
            &mut settings.chain.imds_token_ttl_seconds,
            21_600,
        ),
    ] {
        if let Some(v) = block.get(field) {
            match v.as_u64() {
                Some(n) if n > 0 && n <= max => *target = n,
                _ => {
                    return Err(error(
                        &format!("credentials.{field}"),
                        format!("expected a whole number from 1 to {max}, got {}", quote(v)),
                    ))
                }
            }
        }
    }
    Ok(settings)
}

fn prefixed(mut e: ConfigError, block: &str) -> ConfigError {
    e.field = format!("{block}.{}", e.field);
    e
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
    fn credentials_block() {
        let c = parse(&format!(r#"{{"arn":"{ARN}"}}"#)).unwrap().credentials;
        assert_eq!(c, CredentialSettings::default());
        assert_eq!(c.chain.providers, Provider::ALL.to_vec());
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"provider":"instance_metadata",
                "instance_metadata_cluster":"imds","refresh_margin_seconds":60,"max_wait_ms":250,
                "fetch_timeout_ms":900,"imds_token_ttl_seconds":120}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(c.chain.providers, vec![Provider::InstanceMetadata]);
        assert_eq!(c.chain.instance_metadata_cluster, "imds");
        assert_eq!(
            (
                c.refresh_margin_seconds,
                c.max_wait_ms,
                c.fetch_timeout_ms,
                c.chain.imds_token_ttl_seconds
            ),
            (60, 250, 900, 120)
        );
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","credentials":{{"providers":["container","environment"]}}}}"#
        ))
        .unwrap()
        .credentials;
        assert_eq!(
            c.chain.providers,
            vec![Provider::Container, Provider::Environment]
        );
    }

    #[test]
    fn credentials_errors() {
        let cases: &[(&str, &[&str])] = &[
            (r#""credentials":5"#, &["credentials:", "5"]),
            (
                r#""credentials":{"provider":"file"}"#,
                &["credentials.provider:", "\"file\""],
            ),
            (
                r#""credentials":{"providers":[]}"#,
                &["credentials.providers:", "[]"],
            ),
            (
                r#""credentials":{"providers":["container","container"]}"#,
                &["twice"],
            ),
            (
                r#""credentials":{"provider":"container","providers":["container"]}"#,
                &["not both"],
            ),
            (
                r#""credentials":{"max_wait_ms":0}"#,
                &["credentials.max_wait_ms:", "0"],
            ),
            (
                r#""credentials":{"container_cluster":7}"#,
                &["credentials.container_cluster:", "7"],
            ),
            (
                r#""credentials":{"secret":"x"}"#,
                &["credentials.secret:", "unknown field"],
            ),
        ];
        for (fields, needles) in cases {
            let msg = err(&format!(r#"{{"arn":"{ARN}",{fields}}}"#));
            for n in *needles {
                assert!(msg.contains(n), "{fields}: {msg:?} lacks {n:?}");
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
