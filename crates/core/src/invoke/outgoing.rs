//! The header map of the outgoing Invoke call, serialized for one host call: the caller's
//! headers (as the host serialized them) minus what must not reach AWS and minus what the
//! filter sets, then `:method: POST`, the filter's own headers and, when the caller sent none,
//! `content-length`.

use super::must_strip;
use crate::header_pairs;

/// The serialized outgoing map; an error if the caller's map is malformed. With `event`, the
/// body is an event the filter wrote: the caller's `content-type`, `content-length` and
/// `transfer-encoding` describe another body and are replaced.
pub fn outgoing_headers(
    caller: &[u8],
    ours: &[(&'static str, &str)],
    body_len: usize,
    event: bool,
) -> Result<Vec<u8>, &'static str> {
    let theirs = header_pairs::parse(caller).ok_or("the request headers came back malformed")?;
    let mut has_content_length = false;
    let mut headers: Vec<(&str, &[u8])> = Vec::with_capacity(theirs.len() + ours.len() + 3);
    for (name, value) in theirs {
        let describes_body = matches!(
            name,
            "content-type" | "content-length" | "transfer-encoding"
        );
        if event && describes_body {
            continue;
        }
        has_content_length |= name == "content-length";
        let replaced = name == ":method" || ours.iter().any(|(ours, _)| *ours == name);
        if !replaced && !must_strip(name) {
            headers.push((name, value));
        }
    }
    headers.push((":method", b"POST"));
    headers.extend(ours.iter().map(|(n, v)| (*n, v.as_bytes())));
    if event {
        headers.push(("content-type", b"application/json"));
    }
    let content_length;
    if !has_content_length {
        content_length = body_len.to_string();
        headers.push(("content-length", content_length.as_bytes()));
    }
    header_pairs::serialize(&headers).ok_or("the request headers are too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_values(serialized: &[u8]) -> Vec<(String, String)> {
        header_pairs::parse(serialized)
            .unwrap()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    fn caller(pairs: &[(&str, &str)]) -> Vec<u8> {
        let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        header_pairs::serialize(&pairs).unwrap()
    }

    #[test]
    fn replaces_strips_and_keeps_in_order() {
        let from_caller = caller(&[
            (":method", "GET"),
            (":path", "/health"),
            (":authority", "localhost:2345"),
            ("authorization", "Bearer client"),
            ("x-amz-date", "19700101T000000Z"),
            ("x-amz-log-type", "Tail"),
            ("content-type", "application/json"),
            ("x-request-id", "abc"),
            ("content-length", "2"),
        ]);
        let ours = [
            (":path", "/2015-03-31/functions/f/invocations"),
            (":authority", "lambda.us-east-1.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", "AWS4-HMAC-SHA256 ..."),
        ];
        let out = names_and_values(&outgoing_headers(&from_caller, &ours, 2, false).unwrap());
        let expected: Vec<(String, String)> = [
            ("content-type", "application/json"),
            ("x-request-id", "abc"),
            ("content-length", "2"),
            (":method", "POST"),
            (":path", "/2015-03-31/functions/f/invocations"),
            (":authority", "lambda.us-east-1.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", "AWS4-HMAC-SHA256 ..."),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn adds_content_length_when_the_caller_sent_none() {
        let out = outgoing_headers(&caller(&[(":method", "POST")]), &[], 17, false).unwrap();
        assert!(names_and_values(&out).contains(&("content-length".into(), "17".into())));
    }

    #[test]
    fn an_event_body_gets_its_own_type_and_length() {
        let from_caller = caller(&[
            (":method", "POST"),
            ("content-type", "image/png"),
            ("content-length", "5"),
            ("transfer-encoding", "chunked"),
            ("x-keep", "1"),
        ]);
        let out = names_and_values(&outgoing_headers(&from_caller, &[], 123, true).unwrap());
        let get = |name: &str| -> Vec<String> {
            out.iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .collect()
        };
        assert_eq!(get("content-type"), vec!["application/json"]);
        assert_eq!(get("content-length"), vec!["123"]);
        assert_eq!(get("transfer-encoding"), Vec::<String>::new());
        assert_eq!(get("x-keep"), vec!["1"]);
    }

    #[test]
    fn malformed_caller_headers_are_an_error() {
        let mut bad = caller(&[("a", "b")]);
        bad.truncate(bad.len() - 2);
        assert!(outgoing_headers(&bad, &[], 0, false).is_err());
    }
}
