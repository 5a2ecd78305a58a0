//! The plugin configuration: JSON, validated once at configure time into a typed form.
//!
//! Field names follow Envoy's native `aws_lambda` filter so its users can switch by changing
//! one line. Every error names the field and quotes the bad value; the raw configuration is
//! never logged. The top-level fields are read here, the `credentials` block in
//! `credentials`, both through the field reader of `fields`.

mod assume_role;
mod caller;
mod credentials;
mod error;
pub mod fields;
mod functions;
mod tenant;

pub use caller::{CallerSource, Untrusted, MAX_CALLERS};
pub use credentials::CredentialSettings;
pub use error::ConfigError;
pub use functions::{parse_plugin_config, PluginConfig, MAX_FUNCTION_NAME};
pub use tenant::{is_tenant_id, TenantIdSource, MAX_TENANT_ID};

use crate::arn::{check_qualifier, parse_function_arn, FunctionArn};
use crate::caller::allowed::AllowedCaller;
use crate::event::path::is_path_prefix;
use crate::event::PayloadFormat;
use crate::invocation_mode::InvocationMode;
use crate::response::FunctionErrors;
use error::{quote, quote_str};
use fields::{Choice, Fields};
use serde_json::Value;

/// `invoke_timeout_ms` when not given: Envoy's default route timeout, which bounds a
/// passthrough request the same way.
pub const DEFAULT_INVOKE_TIMEOUT_MS: u64 = 15_000;
/// Lambda runs a function for 15 minutes at most.
const MAX_INVOKE_TIMEOUT_MS: u64 = 900_000;

/// The largest `max_request_bytes` accepted: Lambda takes at most 6 MB per request, so more
/// is meaningless; the bound keeps the generated listeners' buffer (this plus headroom)
/// within Envoy's `per_connection_buffer_limit_bytes`, a `uint32`.
pub const MAX_REQUEST_BYTES: u64 = 64 * 1024 * 1024;

/// `payload_passthrough` when not given: the native `aws_lambda` filter's default (the event),
/// so that a configuration copied from it keeps its behaviour.
pub const DEFAULT_PAYLOAD_PASSTHROUGH: bool = false;

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterConfig {
    pub arn: FunctionArn,
    /// From the `qualifier` field or the ARN's suffix.
    pub qualifier: Option<String>,
    pub invocation_mode: InvocationMode,
    /// The request body is the payload as it is; otherwise it is wrapped in an event.
    /// Omitted: `false`, as in the native filter (`DEFAULT_PAYLOAD_PASSTHROUGH`).
    pub payload_passthrough: bool,
    /// The event, when not passthrough.
    pub payload_format: PayloadFormat,
    /// What the caller gets for a function error.
    pub function_error: FunctionErrors,
    /// The host the request is sent to and signed for.
    pub host: String,
    pub max_request_bytes: u64,
    /// How long the filter waits for the answer to an Invoke call it sends itself (event
    /// formats); a passthrough request is bounded by its route's timeout instead.
    pub invoke_timeout_ms: u64,
    /// The caller's `x-amzn-trace-id` goes on with the call (Lambda continues its X-Ray trace,
    /// and samples as it says). Off where callers are not trusted to choose the sampling.
    pub forward_trace_id: bool,
    /// Event formats: the prefix of the path that the route stands for (a gateway's
    /// `/authentication`), left out of the path the event carries.
    pub strip_path_prefix: Option<String>,
    /// The filter's own error replies give callers the full reason (role ARNs, accounts,
    /// clusters, STS's words) instead of a fixed summary; for meshes whose callers may see it.
    pub detailed_errors: bool,
    pub credentials: CredentialSettings,
    /// Where the filter learns which mesh service called (`caller`); `None`: it does not.
    pub caller: Option<CallerSource>,
    /// Where the tenant id of a tenant-isolated function comes from (`tenant_id`); `None`:
    /// none is sent.
    pub tenant_id: Option<TenantIdSource>,
    /// The mesh callers allowed to invoke the function (`callers`); `None`: any caller.
    pub callers: Option<Vec<AllowedCaller>>,
}

impl FilterConfig {
    /// The event format, unless the body is sent as it is.
    pub fn event_format(&self) -> Option<PayloadFormat> {
        (!self.payload_passthrough).then_some(self.payload_format)
    }
}

impl Choice for FunctionErrors {
    const WHAT: &'static str = "value";
    fn names() -> Vec<&'static str> {
        FunctionErrors::ALL.iter().map(|f| f.name()).collect()
    }
    fn from_name(name: &str) -> Option<Self> {
        FunctionErrors::parse(name)
    }
}

impl Choice for InvocationMode {
    const WHAT: &'static str = "value";
    fn names() -> Vec<&'static str> {
        InvocationMode::ALL.iter().map(|m| m.name()).collect()
    }
    fn from_name(name: &str) -> Option<Self> {
        InvocationMode::parse(name)
    }
}

/// Parses and validates the plugin configuration.
pub fn parse_config(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ConfigError::new(
            "arn",
            "is required, but the configuration is empty",
        ));
    }
    let root: Value = serde_json::from_slice(bytes)
        .map_err(|e| ConfigError::new("configuration", format!("not valid JSON ({e})")))?;
    let Value::Object(object) = &root else {
        return Err(ConfigError::new(
            "configuration",
            format!("expected a JSON object, got {}", quote(&root)),
        ));
    };
    parse_function(object)
}

/// One function's configuration from its JSON object (the whole configuration in the
/// single-function form, a `functions` entry with the shared fields added in the other).
fn parse_function(object: &serde_json::Map<String, Value>) -> Result<FilterConfig, ConfigError> {
    // Every read, then `finish`, then the values in field order (see `fields`).
    let mut fields = Fields::new(object);
    let arn = fields.string("arn");
    let qualifier = fields.string("qualifier");
    let invocation_mode = fields.one_of::<InvocationMode>("invocation_mode");
    let payload_passthrough = fields.bool("payload_passthrough");
    let payload_format = fields.string("payload_format");
    let function_error = fields.one_of::<FunctionErrors>("function_error");
    let host_rewrite = fields.string("host_rewrite");
    let max_request_bytes = fields.whole_number("max_request_bytes", 1..=MAX_REQUEST_BYTES);
    let invoke_timeout_ms = fields.whole_number("invoke_timeout_ms", 1..=MAX_INVOKE_TIMEOUT_MS);
    let forward_trace_id = fields.bool("forward_trace_id");
    let strip_path_prefix = fields.string("strip_path_prefix");
    let tenant_id = fields.object("tenant_id");
    let detailed_errors = fields.bool("detailed_errors");
    let credentials = fields.object("credentials");
    let caller = fields.object("caller");
    let callers = fields.value("callers");
    fields.finish()?;

    let arn_text = arn?.ok_or_else(|| fields.error("arn", "is required"))?;
    let arn = parse_function_arn(arn_text).map_err(|e| {
        fields.error(
            "arn",
            format!("{} is not a Lambda function ARN: {e}", quote_str(arn_text)),
        )
    })?;
    let qualifier = match (qualifier?, &arn.qualifier) {
        (Some(q), Some(from_arn)) => {
            return Err(fields.error(
                "qualifier",
                format!(
                    "{} given, but the arn already ends in qualifier {}; give one",
                    quote_str(q),
                    quote_str(from_arn)
                ),
            ))
        }
        (Some(q), None) => {
            check_qualifier(q)
                .map_err(|e| fields.error("qualifier", format!("{}: {e}", quote_str(q))))?;
            Some(q.to_owned())
        }
        (None, from_arn) => from_arn.clone(),
    };
    let invocation_mode = invocation_mode?.unwrap_or_default();
    let payload_passthrough = payload_passthrough?.unwrap_or(DEFAULT_PAYLOAD_PASSTHROUGH);
    let payload_format = match (payload_format?, payload_passthrough) {
        (None, _) => PayloadFormat::default(),
        (Some(_), true) => {
            return Err(fields.error(
                "payload_format",
                "applies only with payload_passthrough: false (the body is sent as it is)",
            ))
        }
        (Some(name), false) => PayloadFormat::parse(name).ok_or_else(|| {
            fields.error(
                "payload_format",
                format!(
                    "unknown value {}, expected envoy or api_gateway_v2",
                    quote_str(name)
                ),
            )
        })?,
    };
    if invocation_mode == InvocationMode::Streaming && !payload_passthrough {
        // With an event format the filter sends the Invoke call itself
        // (`dispatch_http_call`), whose answer arrives whole: it cannot be streamed.
        return Err(fields.error(
            "invocation_mode",
            "\"streaming\" needs payload_passthrough: true (with an event format the filter \
             sends the call itself, and that answer cannot be streamed)",
        ));
    }
    let function_error = function_error?.unwrap_or_default();
    let host = match host_rewrite? {
        None => arn.partition.endpoint("lambda", &arn.region),
        Some(h) if is_valid_host(h) => h.to_ascii_lowercase(),
        Some(h) => {
            return Err(fields.error(
                "host_rewrite",
                format!(
                    "{} is not a host name (letters, digits, '.', '-', optional :port)",
                    quote_str(h)
                ),
            ))
        }
    };
    let max_request_bytes = max_request_bytes?.unwrap_or(invocation_mode.payload_limit());
    let invoke_timeout_ms = match (invoke_timeout_ms?, payload_passthrough) {
        (None, _) => DEFAULT_INVOKE_TIMEOUT_MS,
        (Some(_), true) => {
            return Err(fields.error(
                "invoke_timeout_ms",
                "applies only with payload_passthrough: false (a passthrough request is \
                 bounded by its route's timeout)",
            ))
        }
        (Some(ms), false) => ms,
    };
    let forward_trace_id = forward_trace_id?.unwrap_or(true);
    let strip_path_prefix =
        match (strip_path_prefix?, payload_passthrough) {
            (None, _) => None,
            (Some(_), true) => return Err(fields.error(
                "strip_path_prefix",
                "applies only with payload_passthrough: false (it is the path the event carries)",
            )),
            (Some(p), false) if is_path_prefix(p) => Some(p.to_owned()),
            (Some(p), false) => {
                return Err(fields.error(
                    "strip_path_prefix",
                    format!(
                        "{} is not a path prefix ('/' first, none last, printable, no '?', '#' or \
                     spaces)",
                        quote_str(p)
                    ),
                ))
            }
        };
    let detailed_errors = detailed_errors?.unwrap_or(false);
    let credentials = match credentials? {
        None => CredentialSettings::default(),
        Some(block) => credentials::read(block, &arn)?,
    };
    let caller = caller?.map(caller::read).transpose()?;
    let tenant_id = tenant_id?.map(tenant::read).transpose()?;
    let callers = caller::read_callers(&fields, callers, caller.as_ref())?;

    Ok(FilterConfig {
        arn,
        qualifier,
        invocation_mode,
        payload_passthrough,
        payload_format,
        function_error,
        host,
        max_request_bytes,
        invoke_timeout_ms,
        forward_trace_id,
        strip_path_prefix,
        detailed_errors,
        credentials,
        caller,
        tenant_id,
        callers,
    })
}

pub(super) fn is_valid_host(h: &str) -> bool {
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
pub(crate) mod tests {
    use super::*;

    pub const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";

    pub fn parse(json: &str) -> Result<FilterConfig, ConfigError> {
        parse_config(json.as_bytes())
    }

    pub fn err(json: &str) -> String {
        parse(json).unwrap_err().to_string()
    }

    /// Each `(block, expected)`: a function whose `field` is `block` is refused with an error
    /// that starts with `expected`.
    pub fn assert_block_refused(field: &str, cases: &[(&str, &str)]) {
        for (block, expected) in cases {
            let message = err(&format!(r#"{{"arn":"{ARN}","{field}":{block}}}"#));
            let expected = format!("invalid configuration: {expected}");
            assert!(message.starts_with(&expected), "{block}: {message}");
        }
    }

    /// Omitted, `payload_passthrough` is `false`: the request goes as the JSON event, as with
    /// the native filter, whose `Config.payload_passthrough` is a proto3 `bool` (zero value
    /// `false`; envoyproxy/envoy `api/envoy/extensions/filters/http/aws_lambda/v3/aws_lambda.proto`:
    /// "Whether to transform the request (headers and body) to a JSON payload or pass it as
    /// is."), and with Consul's `builtin/aws/lambda` extension, whose `PayloadPassthrough` is a
    /// Go `bool` left at `false` when not given (hashicorp/consul
    /// `agent/envoyextensions/builtin/aws-lambda/aws_lambda.go`).
    #[test]
    fn payload_passthrough_defaults_to_the_native_filters_event() {
        let c = parse(&format!(r#"{{"arn":"{ARN}"}}"#)).unwrap();
        assert!(!c.payload_passthrough);
        assert_eq!(c.event_format(), Some(PayloadFormat::Envoy));
        assert_eq!(c.invoke_timeout_ms, DEFAULT_INVOKE_TIMEOUT_MS);
        let e = err(&format!(
            r#"{{"arn":"{ARN}","invocation_mode":"streaming"}}"#
        ));
        assert!(e.contains("needs payload_passthrough: true"), "{e}");
    }

    #[test]
    fn defaults_follow_lambda() {
        let c = parse(&format!(r#"{{"arn":"{ARN}","payload_passthrough":true}}"#)).unwrap();
        assert_eq!(c.invocation_mode, InvocationMode::Synchronous);
        assert_eq!(c.host, "lambda.us-east-1.amazonaws.com");
        assert_eq!(c.max_request_bytes, 6 * 1024 * 1024);
        assert_eq!(c.qualifier, None);
        assert!(c.forward_trace_id);
        assert!(!c.detailed_errors);
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","invocation_mode":"ASYNCHRONOUS"}}"#
        ))
        .unwrap();
        assert_eq!(c.invocation_mode, InvocationMode::Asynchronous);
        assert_eq!(c.max_request_bytes, 1024 * 1024);
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","invocation_mode":"STREAMING","payload_passthrough":true}}"#
        ))
        .unwrap();
        assert_eq!(c.invocation_mode, InvocationMode::Streaming);
        assert_eq!(c.max_request_bytes, 6 * 1024 * 1024);
    }

    #[test]
    fn accepts_every_field() {
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","qualifier":"live","invocation_mode":"dry_run","payload_passthrough":true,
                "host_rewrite":"Lambda.example.test:8443","max_request_bytes":1000,"forward_trace_id":false,
                "detailed_errors":true}}"#
        ))
        .unwrap();
        assert_eq!(c.qualifier.as_deref(), Some("live"));
        assert_eq!(c.invocation_mode, InvocationMode::DryRun);
        assert_eq!(c.host, "lambda.example.test:8443");
        assert_eq!(c.max_request_bytes, 1000);
        assert!(!c.forward_trace_id);
        assert!(c.detailed_errors);
    }

    /// The filter's own call (event formats) waits as long as Envoy's default route timeout,
    /// or `invoke_timeout_ms`; with passthrough the route's timeout bounds the request.
    #[test]
    fn invoke_timeout_only_with_an_event_format() {
        let events = format!(r#"{{"arn":"{ARN}","payload_passthrough":false"#);
        assert_eq!(
            parse(&format!("{events}}}")).unwrap().invoke_timeout_ms,
            15_000
        );
        let given = parse(&format!(r#"{events},"invoke_timeout_ms":900000}}"#)).unwrap();
        assert_eq!(given.invoke_timeout_ms, 900_000);
        for bad in ["0", "900001", "\"15s\""] {
            let e = err(&format!(r#"{events},"invoke_timeout_ms":{bad}}}"#));
            assert!(
                e.contains("invoke_timeout_ms: expected a whole number from 1 to 900000"),
                "{e}"
            );
        }
        let e = err(&format!(
            r#"{{"arn":"{ARN}","payload_passthrough":true,"invoke_timeout_ms":1000}}"#
        ));
        assert!(
            e.contains("invoke_timeout_ms: applies only with payload_passthrough: false"),
            "{e}"
        );
    }

    /// Lambda's endpoint is in the function's partition (`lambda.<region>.<domain>`, botocore's
    /// `data/endpoints.json`; every partition is checked against it in `arn`'s tests), and an
    /// ARN whose region is another partition's is refused at start.
    #[test]
    fn the_lambda_host_follows_the_partition() {
        for (arn, host) in [
            (
                "arn:aws-cn:lambda:cn-north-1",
                "lambda.cn-north-1.amazonaws.com.cn",
            ),
            (
                "arn:aws-us-gov:lambda:us-gov-west-1",
                "lambda.us-gov-west-1.amazonaws.com",
            ),
            (
                "arn:aws-iso:lambda:us-iso-east-1",
                "lambda.us-iso-east-1.c2s.ic.gov",
            ),
            (
                "arn:aws-iso-b:lambda:us-isob-east-1",
                "lambda.us-isob-east-1.sc2s.sgov.gov",
            ),
            (
                "arn:aws-iso-e:lambda:eu-isoe-west-1",
                "lambda.eu-isoe-west-1.cloud.adc-e.uk",
            ),
            (
                "arn:aws-iso-f:lambda:us-isof-south-1",
                "lambda.us-isof-south-1.csp.hci.ic.gov",
            ),
            (
                "arn:aws-eusc:lambda:eusc-de-east-1",
                "lambda.eusc-de-east-1.amazonaws.eu",
            ),
        ] {
            let c = parse(&format!(r#"{{"arn":"{arn}:123456789012:function:f"}}"#)).unwrap();
            assert_eq!(c.host, host);
        }
        assert_eq!(
            err(r#"{"arn":"arn:aws:lambda:cn-north-1:123456789012:function:f"}"#),
            "invalid configuration: arn: \"arn:aws:lambda:cn-north-1:123456789012:function:f\" \
             is not a Lambda function ARN: region cn-north-1 is in partition aws-cn, not aws"
        );
        assert_eq!(
            err(r#"{"arn":"arn:aws-cn:lambda:us-east-1:123456789012:function:f"}"#),
            "invalid configuration: arn: \"arn:aws-cn:lambda:us-east-1:123456789012:function:f\" \
             is not a Lambda function ARN: region us-east-1 is in partition aws, not aws-cn"
        );
    }

    /// Lambda takes 6 MB a request at most; the bound keeps the generators' listener buffer
    /// (the limit plus headroom) a `uint32` as Envoy's `per_connection_buffer_limit_bytes` is.
    #[test]
    fn max_request_bytes_is_bounded() {
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","max_request_bytes":67108864}}"#
        ))
        .unwrap();
        assert_eq!(c.max_request_bytes, 64 * 1024 * 1024);
        for over in ["67108865", "4294967295", "4294967296"] {
            assert_eq!(
                err(&format!(r#"{{"arn":"{ARN}","max_request_bytes":{over}}}"#)),
                format!(
                    "invalid configuration: max_request_bytes: expected a whole number from 1 \
                     to 67108864, got {over}"
                )
            );
        }
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
                &format!(
                    r#"{{"arn":"{ARN}","payload_passthrough":true,"payload_format":"envoy"}}"#
                ),
                &["payload_format:", "payload_passthrough: false"],
            ),
            (
                &format!(
                    r#"{{"arn":"{ARN}","invocation_mode":"streaming","payload_passthrough":false}}"#
                ),
                &[
                    "invocation_mode:",
                    "\"streaming\"",
                    "payload_passthrough: true",
                ],
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

    #[test]
    fn texts_the_end_to_end_suite_checks() {
        let cases = [
            (
                format!(r#"{{"arn":"{ARN}","invocation_mode":"sideways"}}"#),
                r#"invocation_mode: unknown value "sideways", expected one of synchronous, asynchronous, dry_run, streaming"#,
            ),
            (
                r#"{"arn":"arn:aws:s3:::bucket"}"#.to_owned(),
                r#"arn: "arn:aws:s3:::bucket" is not a Lambda function ARN: missing function name"#,
            ),
            (
                format!(r#"{{"arn":"{ARN}","payload_passthrough":"yes"}}"#),
                r#"payload_passthrough: expected true or false, got "yes""#,
            ),
            (
                format!(r#"{{"arn":"{ARN}","payload_passthrough":false,"payload_format":"v3"}}"#),
                r#"payload_format: unknown value "v3", expected envoy or api_gateway_v2"#,
            ),
            (
                format!(r#"{{"arn":"{ARN}","max_request_bytes":"big"}}"#),
                r#"max_request_bytes: expected a whole number from 1 to 67108864, got "big""#,
            ),
            (
                format!(r#"{{"arn":"{ARN}:live","qualifier":"7"}}"#),
                r#"qualifier: "7" given, but the arn already ends in qualifier "live"; give one"#,
            ),
            (
                format!(r#"{{"arn":"{ARN}","payload_passthrough":true,"strip_path_prefix":"/a"}}"#),
                "strip_path_prefix: applies only with payload_passthrough: false (it is the path the event carries)",
            ),
            (
                format!(r#"{{"arn":"{ARN}","strip_path_prefix":"/a/"}}"#),
                r#"strip_path_prefix: "/a/" is not a path prefix ('/' first, none last, printable, no '?', '#' or spaces)"#,
            ),
            (
                format!(r#"{{"arn":"{ARN}","arnn":1}}"#),
                r#"arnn: unknown field "arnn", expected one of arn, qualifier, invocation_mode, payload_passthrough, payload_format, function_error, host_rewrite, max_request_bytes, invoke_timeout_ms, forward_trace_id, strip_path_prefix, tenant_id, detailed_errors, credentials, caller, callers"#,
            ),
            (
                format!(r#"{{"arn":"{ARN}","credentials":{{"secret":"x"}}}}"#),
                r#"credentials.secret: unknown field "secret", expected one of provider, providers, container_cluster, instance_metadata_cluster, files_cluster, profile, refresh_margin_seconds, credentials_file_refresh_seconds, max_wait_ms, fetch_timeout_ms, imds_token_ttl_seconds, assume_role"#,
            ),
            (
                r#"{"invocation_mode":"synchronous"}"#.to_owned(),
                "arn: is required",
            ),
        ];
        for (json, message) in cases {
            assert_eq!(err(&json), format!("invalid configuration: {message}"));
        }
    }

    #[test]
    fn unknown_fields_come_first_then_fields_in_order() {
        let cases = [
            (r#"{"ARN":"x"}"#.to_owned(), "ARN: unknown field"),
            (
                format!(r#"{{"arn":"{ARN}","invocation_mode":"x","typo":1}}"#),
                "typo: unknown field",
            ),
            (r#"{"qualifier":1}"#.to_owned(), "arn: is required"),
            (
                r#"{"arn":"not-an-arn","max_request_bytes":0}"#.to_owned(),
                "arn: \"not-an-arn\"",
            ),
            (
                format!(r#"{{"arn":"{ARN}","qualifier":"a/b","credentials":5}}"#),
                "qualifier: \"a/b\"",
            ),
            (
                format!(r#"{{"arn":"{ARN}","credentials":{{"typo":1}},"max_request_bytes":0}}"#),
                "max_request_bytes:",
            ),
        ];
        for (json, start) in cases {
            let msg = err(&json);
            assert!(
                msg.starts_with(&format!("invalid configuration: {start}")),
                "{json}: {msg}"
            );
        }
    }

    #[test]
    fn null_is_not_given() {
        let c = parse(&format!(
            r#"{{"arn":"{ARN}","qualifier":null,"invocation_mode":null,"payload_passthrough":null,
                "host_rewrite":null,"max_request_bytes":null,"credentials":null}}"#
        ))
        .unwrap();
        assert_eq!(c, parse(&format!(r#"{{"arn":"{ARN}"}}"#)).unwrap());
        assert_eq!(
            err(r#"{"arn":null}"#),
            "invalid configuration: arn: is required"
        );
    }
}
