//! The configuration as a whole: one function (today's form, its fields at the top level) or
//! several, by name, under `functions`, selected per request by the route's metadata.
//!
//! In the `functions` form each entry holds a function's own fields (`PER_FUNCTION`), read by
//! the same code as the single form's, and the VM-wide fields (`SHARED`: the credentials the
//! VM holds, whether its replies carry the full reason) stay at the top level, for all.

use super::error::{quote, quote_str, ConfigError};
use super::fields::Fields;
use super::{parse_config, parse_function, FilterConfig};
use serde_json::{Map, Value};

/// A function's own fields: in an entry of `functions`, never beside it.
const PER_FUNCTION: [&str; 13] = [
    "arn",
    "qualifier",
    "invocation_mode",
    "payload_passthrough",
    "payload_format",
    "function_error",
    "host_rewrite",
    "max_request_bytes",
    "invoke_timeout_ms",
    "forward_trace_id",
    "strip_path_prefix",
    "tenant_id",
    "callers",
];

/// The VM's fields: at the top level in both forms.
const SHARED: [&str; 3] = ["credentials", "detailed_errors", "caller"];

/// The longest function name: a route's metadata names it, and logs quote it.
pub const MAX_FUNCTION_NAME: usize = 64;

/// A validated configuration: one function, or several by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginConfig {
    /// Today's form: every request is the function's.
    Single(Box<FilterConfig>),
    /// `functions`: a request is the function its route names, or passes untouched. At least
    /// one, in name order; each holds the shared fields (the same in all).
    Named(Vec<(String, FilterConfig)>),
}

impl PluginConfig {
    /// A function's configuration, for what all share (`SHARED`): the single one, or the
    /// first by name.
    pub fn shared(&self) -> Option<&FilterConfig> {
        match self {
            Self::Single(config) => Some(config),
            Self::Named(functions) => functions.first().map(|(_, config)| config),
        }
    }
}

/// Parses and validates the plugin configuration, in either form: with a `functions` field
/// the named form, else the single form exactly as `parse_config` reads it.
pub fn parse_plugin_config(bytes: &[u8]) -> Result<PluginConfig, ConfigError> {
    let named = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|root| match root {
            Value::Object(object) if object.contains_key("functions") => Some(object),
            _ => None,
        });
    match named {
        None => parse_config(bytes).map(|c| PluginConfig::Single(Box::new(c))),
        Some(object) => parse_named(&object).map(PluginConfig::Named),
    }
}

fn parse_named(object: &Map<String, Value>) -> Result<Vec<(String, FilterConfig)>, ConfigError> {
    if let Some(field) = PER_FUNCTION.iter().find(|f| object.contains_key(**f)) {
        return Err(ConfigError::new(
            *field,
            "belongs in each entry of functions when functions is given (not both forms)",
        ));
    }
    let mut fields = Fields::new(object);
    let functions = fields.value("functions");
    let shared: Vec<(&str, Option<&Value>)> =
        SHARED.map(|name| (name, fields.value(name))).to_vec();
    fields.finish()?;
    let entries = match functions {
        Some(Value::Object(entries)) => entries,
        other => {
            return Err(fields.error(
                "functions",
                format!(
                    "expected an object of functions by name, got {}",
                    other.map_or_else(|| "null".to_owned(), quote)
                ),
            ))
        }
    };
    if entries.is_empty() {
        return Err(fields.error(
            "functions",
            "names no function; give at least one (name -> its settings)",
        ));
    }
    let mut named = Vec::with_capacity(entries.len());
    for (name, entry) in entries {
        check_name(name)?;
        let path = format!("functions.{name}");
        let Value::Object(entry) = entry else {
            return Err(ConfigError::new(
                path,
                format!("expected an object, got {}", quote(entry)),
            ));
        };
        if let Some(field) = SHARED.iter().find(|f| entry.contains_key(**f)) {
            return Err(ConfigError::new(
                format!("{path}.{field}"),
                "is shared by every function: give it at the top level",
            ));
        }
        let mut merged = entry.clone();
        for (name, value) in &shared {
            if let Some(value) = value {
                merged.insert((*name).to_owned(), (*value).clone());
            }
        }
        let config = parse_function(&merged).map_err(|mut e| {
            let shared = |s: &&str| {
                e.field
                    .strip_prefix(*s)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            };
            if !SHARED.iter().any(shared) {
                e.field = format!("{path}.{}", e.field);
            }
            e
        })?;
        named.push((name.clone(), config));
    }
    Ok(named)
}

/// A function's name: what a route's metadata gives, so plain (letters, digits, `-`, `_`,
/// `.`) and short.
fn check_name(name: &str) -> Result<(), ConfigError> {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if name.is_empty() || name.len() > MAX_FUNCTION_NAME || !plain {
        return Err(ConfigError::new(
            "functions",
            format!(
                "function name {} is not 1 to {MAX_FUNCTION_NAME} letters, digits, '-', '_' \
                 or '.'",
                quote_str(name)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EAST: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
    const WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:billing:live";

    fn parse(json: &str) -> Result<PluginConfig, ConfigError> {
        parse_plugin_config(json.as_bytes())
    }

    fn err(json: &str) -> String {
        parse(json).unwrap_err().to_string()
    }

    #[test]
    fn the_single_form_reads_as_before() {
        let json = format!(r#"{{"arn":"{EAST}","payload_passthrough":true}}"#);
        assert_eq!(
            parse(&json).unwrap(),
            PluginConfig::Single(Box::new(parse_config(json.as_bytes()).unwrap()))
        );
        // Its errors too, the list of known fields without `functions`.
        assert_eq!(err("{}"), "invalid configuration: arn: is required");
        assert_eq!(err("[]"), parse_config(b"[]").unwrap_err().to_string());
    }

    #[test]
    fn functions_by_name_each_with_its_own_fields_and_the_shared_ones() {
        let c = parse(&format!(
            r#"{{"functions":{{
                "auth":{{"arn":"{EAST}","payload_passthrough":true}},
                "billing":{{"arn":"{WEST}","invocation_mode":"asynchronous","forward_trace_id":false}}}},
              "detailed_errors":true,"credentials":{{"provider":"environment","max_wait_ms":700}}}}"#
        ))
        .unwrap();
        let PluginConfig::Named(functions) = &c else {
            panic!("{c:?}")
        };
        let names: Vec<&str> = functions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["auth", "billing"]);
        let (auth, billing) = (&functions[0].1, &functions[1].1);
        assert_eq!(auth.host, "lambda.us-east-1.amazonaws.com");
        assert!(auth.payload_passthrough);
        assert_eq!(billing.host, "lambda.us-west-2.amazonaws.com");
        assert_eq!(billing.qualifier.as_deref(), Some("live"));
        assert!(!billing.payload_passthrough);
        assert!(!billing.forward_trace_id);
        for f in [auth, billing] {
            assert!(f.detailed_errors);
            assert_eq!(f.credentials.max_wait_ms, 700);
        }
        assert_eq!(c.shared(), Some(auth));
    }

    #[test]
    fn bad_functions_are_refused_with_the_field_named() {
        let cases = [
            (
                r#"{"functions":{}}"#.to_owned(),
                "functions: names no function",
            ),
            (
                r#"{"functions":null}"#.to_owned(),
                "functions: expected an object of functions by name, got null",
            ),
            (
                r#"{"functions":[1]}"#.to_owned(),
                "functions: expected an object of functions by name, got [1]",
            ),
            (
                r#"{"functions":{"a":5}}"#.to_owned(),
                "functions.a: expected an object, got 5",
            ),
            (
                format!(r#"{{"arn":"{EAST}","functions":{{"a":{{"arn":"{EAST}"}}}}}}"#),
                "arn: belongs in each entry of functions when functions is given",
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}"}}}},"typo":1}}"#),
                r#"typo: unknown field "typo", expected one of functions, credentials, detailed_errors"#,
            ),
            (
                format!(r#"{{"functions":{{"a b":{{"arn":"{EAST}"}}}}}}"#),
                r#"functions: function name "a b" is not 1 to 64"#,
            ),
            (
                format!(r#"{{"functions":{{"":{{"arn":"{EAST}"}}}}}}"#),
                r#"functions: function name "" is not"#,
            ),
            (
                format!(
                    r#"{{"functions":{{"{}":{{"arn":"{EAST}"}}}}}}"#,
                    "f".repeat(65)
                ),
                "functions: function name",
            ),
            (
                r#"{"functions":{"a":{"qualifier":"x"}}}"#.to_owned(),
                "functions.a.arn: is required",
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","max_request_bytes":0}}}}}}"#),
                "functions.a.max_request_bytes: expected a whole number",
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":{{}}}}}}}}"#),
                "functions.a.credentials: is shared by every function",
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}"}}}},"credentials":{{"x":1}}}}"#),
                r#"credentials.x: unknown field "x""#,
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","callers":["api"]}}}}}}"#),
                r#"functions.a.callers: needs caller.from: "forwarded_client_cert""#,
            ),
            (
                format!(
                    r#"{{"functions":{{"a":{{"arn":"{EAST}","callers":["a b"]}}}},
                        "caller":{{"from":"forwarded_client_cert"}}}}"#
                ),
                r#"functions.a.callers: "a b" is not a service name"#,
            ),
            (
                format!(
                    r#"{{"callers":["api"],"functions":{{"a":{{"arn":"{EAST}"}}}},
                        "caller":{{"from":"forwarded_client_cert"}}}}"#
                ),
                "callers: belongs in each entry of functions",
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","caller":{{}}}}}}}}"#),
                "functions.a.caller: is shared by every function",
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
}
