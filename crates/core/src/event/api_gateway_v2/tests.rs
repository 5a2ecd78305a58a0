use super::*;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;

/// 2015-08-30T12:36:00Z.
const NOW_MS: u64 = 1_440_938_160_123;

fn context() -> EventContext {
    EventContext {
        account_id: "123456789012".into(),
        source_ip: "10.1.2.3".into(),
        protocol: "HTTP/1.1".into(),
        now_ms: NOW_MS,
        caller: None,
    }
}

fn event(pairs: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    request_event(
        &header_pairs::serialize(&pairs).unwrap(),
        body,
        &context(),
        None,
    )
    .unwrap()
}

fn request() -> Vec<u8> {
    event(
        &[
            (":method", "POST"),
            (":path", "/orders/caf%C3%A9?q=a%20b&q=c&flag"),
            (":authority", "authentication.internal:2345"),
            ("content-type", "application/json; charset=utf-8"),
            ("user-agent", "curl/8"),
            ("x-request-id", "req-42"),
            ("x-tag", "one"),
            ("x-tag", "two"),
            ("cookie", "a=1; b=2"),
            ("cookie", "c=3"),
        ],
        Some(br#"{"item":"tea"}"#),
    )
}

#[test]
fn the_event_has_the_fields_frameworks_read() {
    let e: Value = serde_json::from_slice(&request()).unwrap();
    assert_eq!(e["version"], "2.0");
    assert_eq!(e["routeKey"], "$default");
    assert_eq!(e["rawPath"], "/orders/caf%C3%A9");
    assert_eq!(e["rawQueryString"], "q=a%20b&q=c&flag");
    assert_eq!(e["cookies"], json!(["a=1", "b=2", "c=3"]));
    assert_eq!(e["headers"]["x-tag"], "one,two");
    assert_eq!(e["headers"]["host"], "authentication.internal:2345");
    assert!(e["headers"].get("cookie").is_none());
    assert_eq!(
        e["queryStringParameters"],
        json!({"q": "a b,c", "flag": ""})
    );
    let rc = &e["requestContext"];
    assert_eq!(rc["accountId"], "123456789012");
    assert_eq!(rc["domainName"], "authentication.internal");
    assert_eq!(rc["domainPrefix"], "authentication");
    assert_eq!(rc["http"]["sourceIp"], "10.1.2.3");
    assert_eq!(rc["http"]["protocol"], "HTTP/1.1");
    assert_eq!(rc["http"]["userAgent"], "curl/8");
    assert_eq!(rc["requestId"], "req-42");
    assert_eq!(rc["stage"], "$default");
    assert_eq!(rc["time"], "30/Aug/2015:12:36:00 +0000");
    assert_eq!(rc["timeEpoch"], NOW_MS);
    // A charset parameter does not make JSON binary.
    assert_eq!(
        (&e["body"], &e["isBase64Encoded"]),
        (&json!(r#"{"item":"tea"}"#), &json!(false))
    );
}

/// aws-lambda-rust-runtime's own type reads the event: what `lambda_http` hands a handler.
#[test]
fn aws_lambda_events_deserializes_it() {
    let parsed: ApiGatewayV2httpRequest = serde_json::from_slice(&request()).unwrap();
    assert_eq!(parsed.version.as_deref(), Some("2.0"));
    assert_eq!(parsed.raw_path.as_deref(), Some("/orders/caf%C3%A9"));
    assert_eq!(parsed.request_context.http.method, http_method("POST"));
    assert_eq!(
        parsed.request_context.http.path.as_deref(),
        Some("/orders/caf%C3%A9")
    );
    assert_eq!(
        parsed.request_context.http.source_ip.as_deref(),
        Some("10.1.2.3")
    );
    assert_eq!(
        parsed.request_context.account_id.as_deref(),
        Some("123456789012")
    );
    // API Gateway joins a repeated key's values with commas; the framework splits them again.
    assert_eq!(
        parsed.query_string_parameters.all("q"),
        Some(vec!["a b", "c"])
    );
    assert_eq!(
        parsed.cookies,
        Some(vec!["a=1".into(), "b=2".into(), "c=3".into()])
    );
    assert_eq!(parsed.headers.get("x-tag").unwrap(), "one,two");
    assert_eq!(parsed.body.as_deref(), Some(r#"{"item":"tea"}"#));
    assert!(!parsed.is_base64_encoded);

    let binary: ApiGatewayV2httpRequest = serde_json::from_slice(&event(
        &[
            (":method", "PUT"),
            (":path", "/blob"),
            ("content-type", "image/png"),
        ],
        Some(&[0, 159, 146, 150]),
    ))
    .unwrap();
    assert!(binary.is_base64_encoded);
    assert_eq!(binary.body.as_deref(), Some("AJ+Slg=="));
    let bare: ApiGatewayV2httpRequest =
        serde_json::from_slice(&event(&[(":method", "GET"), (":path", "/")], None)).unwrap();
    assert_eq!((bare.body, bare.cookies), (None, None));
}

fn http_method(m: &str) -> aws_lambda_events::http::Method {
    m.parse().unwrap()
}

/// A response built with aws-lambda-rust-runtime's type maps back to its HTTP response.
#[test]
fn an_aws_lambda_events_response_maps_back() {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = 201;
    response.cookies = vec!["session=abc; HttpOnly".into()];
    response.body = Some(Body::Binary(vec![0, 1, 2, 255]));
    response.is_base64_encoded = true;
    response
        .headers
        .insert("x-made-by", "lambda_http".parse().unwrap());
    let serialized = serde_json::to_vec(&response).unwrap();
    let mapped = function_result(&serialized).unwrap();
    assert_eq!(mapped.status, Some(201));
    assert_eq!(mapped.body, vec![0, 1, 2, 255]);
    assert!(mapped
        .headers
        .contains(&("x-made-by".into(), "lambda_http".into())));
    assert!(mapped
        .headers
        .contains(&("set-cookie".into(), "session=abc; HttpOnly".into())));
}

#[test]
fn a_result_without_status_code_is_the_body_of_a_200() {
    for result in [&br#"{"message":"hi"}"#[..], b"[1,2]", b"\"text\"", b"42"] {
        let mapped = function_result(result).unwrap();
        assert_eq!(mapped.status, Some(200));
        assert_eq!(mapped.body, result);
        assert_eq!(
            mapped.headers,
            vec![("content-type".to_owned(), "application/json".to_owned())]
        );
    }
    assert!(function_result(b"not json").is_err());
    assert!(function_result(br#"{"statusCode":"x"}"#).is_err());
}

/// The mesh caller is where API Gateway HTTP APIs put a Lambda authorizer's context:
/// `requestContext.authorizer.lambda` (payload format 2.0; aws-lambda-go's
/// `APIGatewayV2HTTPRequestContextAuthorizerDescription.Lambda`, aws_lambda_events'
/// `ApiGatewayRequestAuthorizer`, `lambda` read into `fields`). No caller known: no
/// `authorizer` at all, as API Gateway sends none for a route without one.
#[test]
fn the_caller_is_the_lambda_authorizers_context() {
    let headers = header_pairs::serialize(&[(":method", &b"GET"[..]), (":path", b"/")]).unwrap();
    let id = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/api";
    let mut with_caller = context();
    with_caller.caller = Some(std::rc::Rc::new(Caller::new("api".into(), Some(id.into()))));
    let event = request_event(&headers, None, &with_caller, None).unwrap();
    let value: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(
        value["requestContext"]["authorizer"],
        json!({"lambda": {"mesh-caller-service": "api", "mesh-caller-spiffe-id": id}})
    );
    let parsed: ApiGatewayV2httpRequest = serde_json::from_slice(&event).unwrap();
    let authorizer = parsed.request_context.authorizer.unwrap();
    assert_eq!(
        authorizer.fields.get("mesh-caller-service"),
        Some(&json!("api"))
    );

    with_caller.caller = Some(std::rc::Rc::new(Caller::new("web".into(), None)));
    let event = request_event(&headers, None, &with_caller, None).unwrap();
    let value: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(
        value["requestContext"]["authorizer"],
        json!({"lambda": {"mesh-caller-service": "web"}})
    );

    let event = request_event(&headers, None, &context(), None).unwrap();
    let value: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(value["requestContext"].get("authorizer"), None);
}
