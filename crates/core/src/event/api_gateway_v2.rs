//! The API Gateway HTTP API / Lambda function URL event (payload format 2.0), which Lambda
//! frameworks parse (aws-lambda-rust-runtime's `lambda_http`, Powertools, aws-lambda-go,
//! Mangum, Lambda Web Adapter):
//!
//! `version` "2.0", `routeKey` and `stage` `$default`, `rawPath`, `rawQueryString`, `cookies`
//! (every `cookie` header, split at `;`), `headers` (lower-case, a repeated one joined with
//! `,`, without `cookie`; `host` from the request's authority), `queryStringParameters`
//! (percent-decoded, a repeated key's values joined with `,`), `requestContext` (`accountId`
//! from the function's ARN, `apiId` and `domainPrefix` the host's first label, `domainName`,
//! `http` {`method`, `path`, `protocol`, `sourceIp`, `userAgent`}, `requestId` Envoy's
//! `x-request-id`, `time`, `timeEpoch`, and when the mesh caller is known `authorizer`
//! {`lambda`: {`mesh-caller-service`, `mesh-caller-spiffe-id`}}, where API Gateway puts a
//! Lambda authorizer's context), `body` and `isBase64Encoded` (text for textual
//! content types, charset parameters allowed; base64 otherwise). The source address and the
//! protocol come from Envoy's attributes, never from headers a caller could forge.
//!
//! The result: an object with `statusCode` is a response (`headers`, `multiValueHeaders`,
//! `cookies`, `body`, `isBase64Encoded`); any other JSON is, as with function URLs, the body
//! of a 200 `application/json` response.

use super::base64;
use super::path::without_prefix;
use super::result::{FunctionResult, MalformedResult};
use super::EventContext;
use crate::caller::{Caller, SERVICE_KEY, SPIFFE_ID_KEY};
use crate::header_pairs;
use crate::sigv4::date::civil_from_days;
use crate::sigv4::encode::percent_decode;
use serde_json::{json, Map, Value};

pub fn request_event(
    serialized_headers: &[u8],
    body: Option<&[u8]>,
    context: &EventContext,
    path_prefix: Option<&str>,
) -> Result<Vec<u8>, String> {
    let pairs =
        header_pairs::parse(serialized_headers).ok_or("the request headers came back malformed")?;
    let mut path = String::new();
    let mut method = String::new();
    let mut authority = String::new();
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in &pairs {
        let value = String::from_utf8_lossy(value);
        match *name {
            ":path" => path = without_prefix(&value, path_prefix).into_owned(),
            ":method" => method = value.into_owned(),
            ":authority" => authority = value.into_owned(),
            n if n.starts_with(':') => {}
            "cookie" => cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| Value::String(c.to_owned())),
            ),
            n => match headers.get_mut(n) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(&value);
                }
                _ => {
                    headers.insert(n.to_owned(), Value::String(value.into_owned()));
                }
            },
        }
    }
    if !authority.is_empty() && !headers.contains_key("host") {
        headers.insert("host".into(), Value::String(authority.clone()));
    }
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path.as_str(), ""));
    let domain = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority.as_str(), |(host, _)| host);
    let prefix = domain.split('.').next().unwrap_or_default();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let textual = headers
        .get("content-type")
        .and_then(Value::as_str)
        .is_some_and(is_textual);
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "requestContext": {
            "accountId": context.account_id,
            "apiId": prefix,
            "domainName": domain,
            "domainPrefix": prefix,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": context.protocol,
                "sourceIp": context.source_ip,
                "userAgent": header("user-agent"),
            },
            "requestId": header("x-request-id"),
            "routeKey": "$default",
            "stage": "$default",
            "time": common_log_time(context.now_ms / 1000),
            "timeEpoch": context.now_ms,
        },
        "isBase64Encoded": false,
    });
    let Value::Object(fields) = &mut event else {
        return Err("the event is not an object".into());
    };
    if let (Some(caller), Some(Value::Object(request_context))) =
        (&context.caller, fields.get_mut("requestContext"))
    {
        request_context.insert("authorizer".into(), authorizer(caller));
    }
    if !cookies.is_empty() {
        fields.insert("cookies".into(), Value::Array(cookies));
    }
    let parameters = query_parameters(raw_query);
    if !parameters.is_empty() {
        fields.insert("queryStringParameters".into(), Value::Object(parameters));
    }
    fields.insert("headers".into(), Value::Object(headers));
    if let Some(bytes) = body.filter(|b| !b.is_empty()) {
        let (text, base64) = match std::str::from_utf8(bytes) {
            Ok(text) if textual => (text.to_owned(), false),
            _ => (base64::encode(bytes), true),
        };
        fields.insert("body".into(), Value::String(text));
        fields.insert("isBase64Encoded".into(), Value::Bool(base64));
    }
    Ok(event.to_string().into_bytes())
}

/// The caller as API Gateway HTTP APIs hand a Lambda authorizer's context to the function:
/// `requestContext.authorizer.lambda`, the authorizer's `context` map ("Working with AWS
/// Lambda proxy integrations for HTTP APIs", payload format 2.0, and "Control access to HTTP
/// APIs with AWS Lambda authorizers": https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html;
/// aws-lambda-go's `events/apigw.go`: `APIGatewayV2HTTPRequestContextAuthorizerDescription`
/// has `Lambda map[string]interface{} json:"lambda"` beside `jwt` and `iam`).
fn authorizer(caller: &Caller) -> Value {
    let mut lambda = Map::new();
    lambda.insert(SERVICE_KEY.into(), Value::String(caller.service.clone()));
    if let Some(id) = &caller.spiffe_id {
        lambda.insert(SPIFFE_ID_KEY.into(), Value::String(id.clone()));
    }
    json!({ "lambda": lambda })
}

/// Text media types (parameters such as `charset` allowed); everything else is base64.
fn is_textual(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || media.ends_with("+json")
        || media.ends_with("+xml")
        || matches!(
            media.as_str(),
            "application/json"
                | "application/javascript"
                | "application/xml"
                | "application/x-www-form-urlencoded"
                | "application/graphql"
        )
}

/// Query parameters decoded, a repeated key's values joined with `,`.
fn query_parameters(query: &str) -> Map<String, Value> {
    let mut parameters = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = String::from_utf8_lossy(&percent_decode(name)).into_owned();
        let value = String::from_utf8_lossy(&percent_decode(value)).into_owned();
        match parameters.get_mut(&name) {
            Some(Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                parameters.insert(name, Value::String(value));
            }
        }
    }
    parameters
}

/// `12/Mar/2020:19:03:58 +0000`, as API Gateway writes `requestContext.time`.
fn common_log_time(unix_seconds: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day) = civil_from_days(unix_seconds / 86_400);
    let secs = unix_seconds % 86_400;
    let month = usize::try_from(month.saturating_sub(1))
        .ok()
        .and_then(|m| MONTHS.get(m))
        .unwrap_or(&"Jan");
    format!(
        "{day:02}/{month}/{year}:{:02}:{:02}:{:02} +0000",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Reads the function's result as function URLs do.
pub fn function_result(body: &[u8]) -> Result<FunctionResult, MalformedResult> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| MalformedResult(format!("the function's result is not JSON ({e})")))?;
    match value {
        Value::Object(result) if result.contains_key("statusCode") => {
            FunctionResult::read(&result, &["statusCode"], &["isBase64Encoded"])
        }
        _ => Ok(FunctionResult {
            status: Some(200),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests;
