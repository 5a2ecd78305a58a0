use super::*;
use serde_json::json;

fn headers(pairs: &[(&str, &str)]) -> Vec<u8> {
    let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    header_pairs::serialize(&pairs).unwrap()
}

fn event(pairs: &[(&str, &str)], body: Option<&[u8]>) -> Value {
    serde_json::from_slice(&request_event(&headers(pairs), body, None).unwrap()).unwrap()
}

#[test]
fn the_native_filters_event() {
    let e = event(
        &[
            (":method", "POST"),
            (":path", "/login/%C3%A9?next=%2Fhome&a=1&a=2&flag&=x"),
            (":authority", "localhost:2345"),
            ("content-type", "application/json"),
            ("x-tag", "one"),
            ("x-tag", "two"),
            ("cookie", "a=1"),
        ],
        Some(b"{\"user\":\"alice\"}"),
    );
    assert_eq!(
        e,
        json!({
            "raw_path": "/login/%C3%A9?next=%2Fhome&a=1&a=2&flag&=x",
            "method": "POST",
            "headers": {"content-type": "application/json", "x-tag": "one,two", "cookie": "a=1"},
            "query_string_parameters": {"next": "%2Fhome", "a": "1", "flag": "", "": "x"},
            "body": "{\"user\":\"alice\"}",
            "is_base64_encoded": false,
        })
    );
}

#[test]
fn text_or_base64_follows_the_native_rule() {
    let body = Some(&b"hello"[..]);
    let cases: &[(&[(&str, &str)], bool)] = &[
        (&[("content-type", "application/json")], false),
        (&[("content-type", "Application/JSON")], false),
        (&[("content-type", "application/javascript")], false),
        (&[("content-type", "application/xml")], false),
        (&[("content-type", "text/plain; charset=utf-8")], false),
        (&[("content-type", "application/json; charset=utf-8")], true),
        (&[("content-type", "application/octet-stream")], true),
        (&[], true),
        (
            &[
                ("content-type", "text/plain"),
                ("transfer-encoding", "chunked"),
            ],
            true,
        ),
        (
            &[
                ("content-type", "text/plain"),
                ("transfer-encoding", "Identity"),
            ],
            false,
        ),
    ];
    for (extra, base64) in cases {
        let mut pairs = vec![(":method", "POST"), (":path", "/")];
        pairs.extend_from_slice(extra);
        let e = event(&pairs, body);
        assert_eq!(e["is_base64_encoded"], json!(*base64), "{extra:?}");
        let expected = if *base64 { "aGVsbG8=" } else { "hello" };
        assert_eq!(e["body"], json!(expected), "{extra:?}");
    }
}

#[test]
fn no_body_and_non_utf8_text() {
    let e = event(&[(":method", "GET"), (":path", "/x")], None);
    assert_eq!(
        (&e["body"], &e["is_base64_encoded"]),
        (&json!(""), &json!(false))
    );
    assert_eq!(e["query_string_parameters"], json!({}));
    let e = event(
        &[
            (":method", "POST"),
            (":path", "/"),
            ("content-type", "text/plain"),
        ],
        Some(&[0xff, 0xfe]),
    );
    assert_eq!(
        (&e["body"], &e["is_base64_encoded"]),
        (&json!("//4="), &json!(true))
    );
}

#[test]
fn results_as_the_native_filter_reads_them() {
    let r = function_result(
        br#"{"statusCode": 201, "headers": {"X-One": "1", "content-length": "999"},
             "multiValueHeaders": {"x-many": ["a", "b"]}, "cookies": ["c=1", "d=2"],
             "body": "aGk=", "isBase64Encoded": true}"#,
    )
    .unwrap();
    assert_eq!(r.status, Some(201));
    assert_eq!(
        r.headers,
        vec![
            ("x-one".to_owned(), "1".to_owned()),
            ("x-many".to_owned(), "a".to_owned()),
            ("x-many".to_owned(), "b".to_owned()),
            ("set-cookie".to_owned(), "c=1".to_owned()),
            ("set-cookie".to_owned(), "d=2".to_owned()),
        ]
    );
    assert_eq!(r.body, b"hi");
    let r = function_result(br#"{"status_code": 0, "body": "plain", "unknown": 1}"#).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (None, &b"plain"[..]));
    assert_eq!(function_result(b"{}").unwrap(), FunctionResult::default());
}

#[test]
fn malformed_results_are_refused_with_a_reason() {
    let cases: &[(&[u8], &str)] = &[
        (b"not json", "not JSON"),
        (b"\"a string\"", "not a JSON object"),
        (
            br#"{"statusCode": "abc"}"#,
            "statusCode that is not a number",
        ),
        (br#"{"statusCode": 700}"#, "statusCode 700"),
        // RFC 9110 section 15.2: a 1xx is interim; the caller would read the body as the
        // next response.
        (
            br#"{"statusCode": 100}"#,
            "statusCode 100, not a final HTTP status",
        ),
        (
            br#"{"statusCode": "101"}"#,
            "statusCode 101, not a final HTTP status",
        ),
        (
            br#"{"statusCode": 199}"#,
            "statusCode 199, not a final HTTP status",
        ),
        (br#"{"headers": ["x"]}"#, "headers that are not an object"),
        (br#"{"headers": {"x": 1}}"#, "whose value is not a string"),
        (
            br#"{"headers": {"x y": "1"}}"#,
            "header name HTTP cannot carry",
        ),
        (br#"{"headers": {"x": "a\r\nb: c"}}"#, "line break"),
        // RFC 9110 section 5.5: no control byte but HTAB in a field value.
        (
            br#"{"headers": {"x": "a\u0001b"}}"#,
            "control character (0x01)",
        ),
        (
            br#"{"headers": {"x": "\u001b[31m"}}"#,
            "control character (0x1b)",
        ),
        (
            br#"{"headers": {"x": "a\u007f"}}"#,
            "control character (0x7f)",
        ),
        (
            br#"{"headers": {"x": "\u0000"}}"#,
            "control character (0x00)",
        ),
        (br#"{"cookies": ["c=\u0008"]}"#, "control character (0x08)"),
        (
            br#"{"multiValueHeaders": {"x": ["ok", "\u001f"]}}"#,
            "control character (0x1f)",
        ),
        // Sections 5.1 and 5.6.2: a field name is a token (`tchar`), no control byte.
        (
            br#"{"headers": {"x\u0001y": "1"}}"#,
            "header name HTTP cannot carry",
        ),
        (
            br#"{"headers": {"x\u007f": "1"}}"#,
            "header name HTTP cannot carry",
        ),
        (br#"{"cookies": "c=1"}"#, "cookies that are not a list"),
        (br#"{"body": "%%%", "isBase64Encoded": true}"#, "not base64"),
        (
            br#"{"body": {"a": 1}}"#,
            "body that is not a string (an object)",
        ),
        (br#"{"isBase64Encoded": "yes"}"#, "not true or false"),
    ];
    for (body, needle) in cases {
        let e = function_result(body).unwrap_err();
        assert!(
            e.0.contains(needle),
            "{}: {e:?}",
            String::from_utf8_lossy(body)
        );
    }
}

/// RFC 9110 section 5.5: HTAB, SP, VCHAR and obs-text (bytes from 0x80, UTF-8 here) are field
/// value bytes, kept as they are.
#[test]
fn field_values_keep_tab_space_and_non_ascii() {
    let r = function_result(r#"{"headers": {"x": "a\tb c~ é"}}"#.as_bytes()).unwrap();
    assert_eq!(r.headers, [("x".to_owned(), "a\tb c~ é".to_owned())]);
}
