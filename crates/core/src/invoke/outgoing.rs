//! The header map of the outgoing Invoke call, serialized for one host call: the caller's
//! headers (as the host serialized them) minus what must not reach AWS and minus what the
//! filter sets, then `:method: POST`, the filter's own headers and, when the caller sent none,
//! `content-length`.

use super::must_strip;
use crate::header_pairs;

/// The serialized outgoing map; an error if the caller's map is malformed.
pub fn outgoing_headers(
    caller: &[u8],
    ours: &[(&'static str, &str)],
    body_len: usize,
) -> Result<Vec<u8>, &'static str> {
    let theirs = header_pairs::parse(caller).ok_or("the request headers came back malformed")?;
    let mut has_content_length = false;
    let mut headers: Vec<(&str, &[u8])> = Vec::with_capacity(theirs.len() + ours.len() + 2);
    for (name, value) in theirs {
        has_content_length |= name == "content-length";
        let replaced = name == ":method" || ours.iter().any(|(ours, _)| *ours == name);
        if !replaced && !must_strip(name) {
            headers.push((name, value));
        }
    }
    headers.push((":method", b"POST"));
    headers.extend(ours.iter().map(|(n, v)| (*n, v.as_bytes())));
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
        let out = names_and_values(&outgoing_headers(&from_caller, &ours, 2).unwrap());
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
        let out = outgoing_headers(&caller(&[(":method", "POST")]), &[], 17).unwrap();
        assert!(names_and_values(&out).contains(&("content-length".into(), "17".into())));
    }

    #[test]
    fn malformed_caller_headers_are_an_error() {
        let mut bad = caller(&[("a", "b")]);
        bad.truncate(bad.len() - 2);
        assert!(outgoing_headers(&bad, &[], 0).is_err());
    }
}
