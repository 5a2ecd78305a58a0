//! A function's result in either event format (the first byte picks the format and Lambda's
//! headers, the rest is the result) mapped to the response it stands for, and the base64 its
//! bodies use. The status is a final HTTP one (200..=599); no header a function sets can frame
//! the response, carry a control byte (RFC 9110 section 5.5) or pose as a pseudo header; the
//! response carries exactly one `content-length`, the body's; base64 decodes what it encodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::event::base64;
use mesh_lambda_core::event::response::mapped_headers;
use mesh_lambda_core::event::result::FRAMING_HEADERS;
use mesh_lambda_core::event::PayloadFormat;
use mesh_lambda_core::header_pairs;
use mesh_lambda_fuzz::{is_field_value, serialize};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, result)) = data.split_first() else {
        return;
    };
    check_base64(result);
    let format = if choice & 1 == 0 {
        PayloadFormat::Envoy
    } else {
        PayloadFormat::ApiGatewayV2
    };
    let Ok(mapped) = format.function_result(result) else {
        return;
    };
    assert!(
        mapped.status.is_none_or(|s| (200..=599).contains(&s)),
        "not a final status"
    );
    for (name, value) in &mapped.headers {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        assert!(!name.is_empty() && name.bytes().all(token), "{name:?}");
        assert_eq!(*name, name.to_ascii_lowercase());
        assert!(
            !FRAMING_HEADERS.contains(&name.as_str()),
            "the function set {name}"
        );
        assert!(is_field_value(value), "{value:?}");
    }
    let length = result.len().to_string();
    let mut lambda = vec![
        (":status".to_owned(), &b"200"[..]),
        ("content-type".to_owned(), b"application/json"),
        ("content-length".to_owned(), length.as_bytes()),
        (
            "x-amzn-requestid".to_owned(),
            b"7c4a6f1e-0000-4000-8000-000000000000",
        ),
        ("x-amz-executed-version".to_owned(), b"$LATEST"),
    ];
    if choice & 2 != 0 {
        lambda.push(("transfer-encoding".to_owned(), b"chunked"));
    }
    if choice & 4 != 0 {
        lambda.push(("set-cookie".to_owned(), b"lambda=1"));
    }
    let Some(headers) = mapped_headers(&serialize(&lambda), &mapped) else {
        panic!("no response headers for a mapped result");
    };
    let Some(pairs) = header_pairs::parse(&headers) else {
        panic!("the response headers do not read");
    };
    let values = |name: &str| -> Vec<&[u8]> {
        pairs
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect()
    };
    let status = mapped.status.unwrap_or(200).to_string();
    assert_eq!(pairs.first(), Some(&(":status", status.as_bytes())));
    assert_eq!(values(":status").len(), 1);
    let body_length = mapped.body.len().to_string();
    assert_eq!(values("content-length"), [body_length.as_bytes()]);
    assert!(values("transfer-encoding").is_empty());
    assert!(!values("content-type").is_empty());
});

fn check_base64(bytes: &[u8]) {
    let encoded = base64::encode(bytes);
    assert_eq!(encoded.len(), bytes.len().div_ceil(3) * 4);
    assert_eq!(base64::decode(&encoded).as_deref(), Some(bytes));
    if let Some(decoded) = std::str::from_utf8(bytes).ok().and_then(base64::decode) {
        let again = base64::decode(&base64::encode(&decoded));
        assert_eq!(again, Some(decoded));
    }
}
