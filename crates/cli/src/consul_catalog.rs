//! The Lambda service's registration, as Consul's catalog gives it: the Lambda registrator (or
//! a manual registration) puts the function in the service's meta under
//! `serverless.consul.hashicorp.com/v1alpha1/lambda/`. Read so a registrator user does not
//! repeat the ARN; `payload-passthrough` false (the registrator's default) is the filter's
//! `payload_passthrough: false`, whose default event is the one Consul's Lambda extension
//! sends.

use serde_json::Value;

pub const META_PREFIX: &str = "serverless.consul.hashicorp.com/v1alpha1/lambda/";

/// The filter settings the registration gives for service `name`: `arn`, `invocation_mode`,
/// `payload_passthrough`. `bytes` is the answer of `/v1/catalog/service/<name>` (a list),
/// `/v1/health/service/<name>` (a list of `{Service: ...}`), or one registration (an object
/// with `Meta` or `ServiceMeta`).
pub fn lambda_meta(bytes: &[u8], name: &str) -> Result<Vec<(&'static str, Value)>, String> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    let entries: Vec<&Value> = match &root {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let metas: Vec<&serde_json::Map<String, Value>> = entries
        .iter()
        .filter_map(|entry| {
            let service = entry
                .get("Service")
                .filter(|s| s.is_object())
                .unwrap_or(entry);
            let entry_name = service
                .get("ServiceName")
                .or_else(|| service.get("Service"))
                .or_else(|| service.get("Name"))
                .and_then(Value::as_str);
            if entry_name.is_some_and(|n| n != name) {
                return None;
            }
            service
                .get("ServiceMeta")
                .or_else(|| service.get("Meta"))
                .and_then(Value::as_object)
        })
        .collect();
    let Some(meta) = metas.first() else {
        return Err(format!(
            "no registration of service {name:?} with meta in it"
        ));
    };
    if metas.iter().any(|m| m != meta) {
        return Err(format!(
            "the instances of {name:?} disagree in their Lambda meta; register them alike"
        ));
    }
    let get = |key: &str| -> Result<Option<&str>, String> {
        match meta.get(&format!("{META_PREFIX}{key}")) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(other) => Err(format!("{META_PREFIX}{key} is not a string: {other}")),
        }
    };
    if get("enabled")? != Some("true") {
        return Err(format!(
            "{name:?} is not a Lambda service: its meta lacks {META_PREFIX}enabled = \"true\""
        ));
    }
    let arn = get("arn")?.ok_or_else(|| format!("{META_PREFIX}arn is missing"))?;
    let mut settings = vec![("arn", Value::from(arn))];
    match get("invocation-mode")? {
        None => {}
        Some(mode @ ("synchronous" | "asynchronous")) => {
            settings.push(("invocation_mode", Value::from(mode)));
        }
        Some(other) => {
            return Err(format!(
                "{META_PREFIX}invocation-mode is {other:?}, expected synchronous or asynchronous"
            ))
        }
    }
    // The registrator's default is false: the function expects the native filter's JSON
    // event, which is the filter's default event format.
    match get("payload-passthrough")? {
        Some("true") => settings.push(("payload_passthrough", Value::Bool(true))),
        None | Some("false") => settings.push(("payload_passthrough", Value::Bool(false))),
        Some(other) => {
            return Err(format!(
                "{META_PREFIX}payload-passthrough is {other:?}, expected true or false"
            ))
        }
    }
    if let Some(region) = get("region")? {
        let arn_region = arn.split(':').nth(3).unwrap_or_default();
        if region != arn_region {
            return Err(format!(
                "{META_PREFIX}region is {region:?} but the ARN's region is {arn_region:?}"
            ));
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";

    fn meta(pairs: &[(&str, &str)]) -> String {
        let pairs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!(r#""{META_PREFIX}{k}":"{v}""#))
            .collect();
        pairs.join(",")
    }

    #[test]
    fn reads_a_catalog_answer() {
        let m = meta(&[
            ("enabled", "true"),
            ("arn", ARN),
            ("payload-passthrough", "true"),
            ("invocation-mode", "asynchronous"),
            ("region", "us-east-1"),
        ]);
        let answer = format!(
            r#"[{{"ServiceName":"authentication","ServiceMeta":{{{m}}}}},{{"ServiceName":"authentication","ServiceMeta":{{{m}}}}}]"#
        );
        assert_eq!(
            lambda_meta(answer.as_bytes(), "authentication").unwrap(),
            vec![
                ("arn", Value::from(ARN)),
                ("invocation_mode", Value::from("asynchronous")),
                ("payload_passthrough", Value::Bool(true)),
            ]
        );
        // A registration file and a health answer say the same.
        let m = meta(&[("enabled", "true"), ("arn", ARN)]);
        for doc in [
            format!(r#"{{"Name":"authentication","Meta":{{{m}}}}}"#),
            format!(r#"[{{"Service":{{"Service":"authentication","Meta":{{{m}}}}}}}]"#),
        ] {
            assert_eq!(
                lambda_meta(doc.as_bytes(), "authentication").unwrap(),
                vec![
                    ("arn", Value::from(ARN)),
                    // The registrator's default: the native filter's event.
                    ("payload_passthrough", Value::Bool(false)),
                ]
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        let cases = [
            (meta(&[("arn", ARN)]), "enabled"),
            (meta(&[("enabled", "true")]), "arn is missing"),
            (
                meta(&[
                    ("enabled", "true"),
                    ("arn", ARN),
                    ("payload-passthrough", "true"),
                    ("invocation-mode", "later"),
                ]),
                "invocation-mode is \"later\"",
            ),
            (
                meta(&[
                    ("enabled", "true"),
                    ("arn", ARN),
                    ("payload-passthrough", "true"),
                    ("region", "eu-west-1"),
                ]),
                "region is \"eu-west-1\"",
            ),
        ];
        for (m, needle) in cases {
            let doc = format!(r#"[{{"ServiceName":"authentication","ServiceMeta":{{{m}}}}}]"#);
            let e = lambda_meta(doc.as_bytes(), "authentication").unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
        let other = format!(
            r#"[{{"ServiceName":"billing","ServiceMeta":{{{}}}}}]"#,
            meta(&[("enabled", "true"), ("arn", ARN)])
        );
        assert!(lambda_meta(other.as_bytes(), "authentication")
            .unwrap_err()
            .contains("no registration"));
        assert!(lambda_meta(b"nope", "authentication")
            .unwrap_err()
            .contains("not valid JSON"));
    }
}
