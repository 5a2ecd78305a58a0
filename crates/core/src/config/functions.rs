//! The configuration as a whole: one function (today's form, its fields at the top level) or
//! several, by name, under `functions`, selected per request by the route's metadata.
//!
//! In the `functions` form each entry holds a function's own fields (`PER_FUNCTION`), read by
//! the same code as the single form's, and the VM-wide fields (`SHARED`: whether its replies
//! carry the full reason, ...) stay at the top level, for all. `credentials` may be in both:
//! an entry's own block, else the top-level one (`OWN_OR_SHARED`).

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

/// A field an entry may give for itself, else the top-level one applies (it is in `SHARED`
/// too). The top-level block is read once, for the first function (by name) that uses it, and
/// every function without its own has that same value: they share one identity, as before
/// entries could have their own (an `assume_role` without `sts_region` takes that first
/// function's region for STS).
const OWN_OR_SHARED: &str = "credentials";

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
    /// A function's configuration, for what all share (`SHARED`, but `credentials`, which
    /// may be a function's own): the single one, or the first by name.
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
    // The top-level credentials as read for the first function without its own block.
    let mut top_credentials = None;
    for (name, entry) in entries {
        check_name(name)?;
        let path = format!("functions.{name}");
        let Value::Object(entry) = entry else {
            return Err(ConfigError::new(
                path,
                format!("expected an object, got {}", quote(entry)),
            ));
        };
        if let Some(field) = SHARED
            .iter()
            .find(|f| **f != OWN_OR_SHARED && entry.contains_key(**f))
        {
            return Err(ConfigError::new(
                format!("{path}.{field}"),
                "is shared by every function: give it at the top level",
            ));
        }
        // Its own block (`null` counts as not given, as everywhere).
        let own = entry.get(OWN_OR_SHARED).is_some_and(|v| !v.is_null());
        let mut merged = entry.clone();
        for (name, value) in &shared {
            if let Some(value) = value.filter(|_| !(*name == OWN_OR_SHARED && own)) {
                merged.insert((*name).to_owned(), value.clone());
            }
        }
        let mut config = parse_function(&merged).map_err(|mut e| {
            // A top-level field's error keeps its own path.
            let top_level = SHARED
                .iter()
                .any(|s| !(*s == OWN_OR_SHARED && own) && names_field(&e.field, s));
            if !top_level {
                e.field = format!("{path}.{}", e.field);
            }
            e
        })?;
        if !own {
            config.credentials = top_credentials
                .get_or_insert_with(|| config.credentials.clone())
                .clone();
        }
        named.push((name.clone(), config));
    }
    let given_at_top = shared
        .iter()
        .any(|(n, v)| *n == OWN_OR_SHARED && v.is_some());
    if top_credentials.is_none() && given_at_top {
        return Err(ConfigError::new(
            OWN_OR_SHARED,
            "is used by no function (each gives its own credentials); remove it",
        ));
    }
    Ok(named)
}

/// Whether an error's `field` is `name` or inside it (`name.x`, not `namex`).
fn names_field(field: &str, name: &str) -> bool {
    field
        .strip_prefix(name)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
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
    use crate::config::CredentialSettings;
    use crate::credentials::chain::Provider;

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

    /// The functions' credential settings, in name order.
    fn credentials(json: &str) -> Vec<CredentialSettings> {
        match parse(json).unwrap() {
            PluginConfig::Named(functions) => {
                functions.into_iter().map(|(_, c)| c.credentials).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/billing";

    #[test]
    fn a_function_may_hold_its_own_credentials_the_others_take_the_top_levels() {
        let c = credentials(&format!(
            r#"{{"functions":{{
                "auth":{{"arn":"{EAST}"}},
                "billing":{{"arn":"{WEST}","credentials":{{"provider":"container",
                    "assume_role":{{"role_arn":"{ROLE}"}},"max_wait_ms":900}}}},
                "search":{{"arn":"{WEST}"}}}},
              "credentials":{{"provider":"environment","max_wait_ms":700}}}}"#
        ));
        let (auth, billing, search) = (&c[0], &c[1], &c[2]);
        assert_eq!(auth.chain.providers, [Provider::Environment]);
        assert_eq!(auth.max_wait_ms, 700);
        assert_eq!(search, auth, "the top-level block, once for both");
        // Its own block replaces the top-level one entirely (nothing is merged from it).
        assert_eq!(billing.chain.providers, [Provider::Container]);
        assert_eq!(billing.max_wait_ms, 900);
        let role = billing.chain.assume_role.as_ref().unwrap();
        assert_eq!(role.role_arn, ROLE);
        assert_eq!(role.region, "us-west-2", "STS in its own function's region");
        // `null` is not given: at the top level (the default chain), and in an entry (the
        // top-level block).
        let c = credentials(&format!(
            r#"{{"functions":{{"auth":{{"arn":"{EAST}","credentials":null}},
                "billing":{{"arn":"{WEST}","credentials":{{"provider":"container"}}}}}},
              "credentials":{{"provider":"environment"}}}}"#
        ));
        assert_eq!(c[0].chain.providers, [Provider::Environment]);
        let c = credentials(&format!(
            r#"{{"functions":{{"auth":{{"arn":"{EAST}","credentials":{{}}}}}},"credentials":null}}"#
        ));
        assert_eq!(c[0], CredentialSettings::default());
        // Without a top-level block, the others have the default chain.
        let c = credentials(&format!(
            r#"{{"functions":{{"auth":{{"arn":"{EAST}"}},
                "billing":{{"arn":"{WEST}","credentials":{{"provider":"container"}}}}}}}}"#
        ));
        assert_eq!(c[0], CredentialSettings::default());
        assert_eq!(c[1].chain.providers, [Provider::Container]);
    }

    #[test]
    fn the_top_level_block_is_read_once_for_every_function_without_its_own() {
        // An `assume_role` without `sts_region` takes the region of the first function that
        // uses the block, as when the block was the VM's one: one identity, not one per region.
        let c = credentials(&format!(
            r#"{{"functions":{{"auth":{{"arn":"{EAST}"}},"billing":{{"arn":"{WEST}"}}}},
                "credentials":{{"assume_role":{{"role_arn":"{ROLE}"}}}}}}"#
        ));
        assert_eq!(c[0], c[1]);
        let role = c[1].chain.assume_role.as_ref().unwrap();
        assert_eq!(role.region, "us-east-1");
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
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","detailed_errors":true}}}}}}"#),
                "functions.a.detailed_errors: is shared by every function",
            ),
            (
                format!(
                    r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":{{"max_wait_ms":0}}}}}}}}"#
                ),
                "functions.a.credentials.max_wait_ms: expected a whole number",
            ),
            (
                format!(
                    r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":{{"assume_role":{{}}}}}}}}}}"#
                ),
                "functions.a.credentials.assume_role.role_arn: is required",
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":{{"x":1}}}}}}}}"#),
                r#"functions.a.credentials.x: unknown field "x""#,
            ),
            (
                format!(r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":5}}}}}}"#),
                "functions.a.credentials: expected",
            ),
            (
                // The top-level block is still the top level's, beside an entry's own.
                format!(
                    r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":{{}}}},"b":{{"arn":"{WEST}"}}}},
                        "credentials":{{"max_wait_ms":0}}}}"#
                ),
                "credentials.max_wait_ms: expected a whole number",
            ),
            (
                format!(
                    r#"{{"functions":{{"a":{{"arn":"{EAST}","credentials":{{}}}}}},
                        "credentials":{{"provider":"environment"}}}}"#
                ),
                "credentials: is used by no function (each gives its own credentials)",
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
