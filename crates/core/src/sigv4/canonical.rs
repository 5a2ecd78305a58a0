//! The SigV4 canonical request of an arbitrary HTTP request, for services other than S3
//! (the path is URI-encoded once more). The Lambda hot path builds its canonical request
//! directly (see `invoke/signer.rs`); this general form is what `general` signs with, and so
//! what the AWS test vectors check and the hot path is checked against.

use super::encode::{percent_decode, uri_encode_bytes_into, uri_encode_into};

/// Canonical URI of a path as it appears on the wire. With `normalize`, empty, `.` and `..`
/// segments are resolved first (RFC 3986 section 5.2.4).
pub fn canonical_uri(wire_path: &str, normalize: bool) -> String {
    let path = if wire_path.is_empty() { "/" } else { wire_path };
    let mut out = String::with_capacity(path.len() + 16);
    if !normalize {
        uri_encode_into(&mut out, path, true);
        return out;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing_slash = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    for s in &segments {
        out.push('/');
        uri_encode_into(&mut out, s, false);
    }
    if segments.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// Canonical query string of a wire query (without `?`): each name and value decoded, then
/// encoded strictly, pairs sorted by name then value.
pub fn canonical_query(wire_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = wire_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let enc = |s: &str| {
                let mut out = String::with_capacity(s.len());
                uri_encode_bytes_into(&mut out, &percent_decode(s), false);
                out
            };
            (enc(k), enc(v))
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A header value as SigV4 canonicalizes it: trimmed, inner runs of spaces folded to one.
pub fn canonical_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The canonical request and its `SignedHeaders` list. `headers` are the headers to sign,
/// in any order and case; repeated names are joined with `,` in the order given.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &[(&str, &str)],
    payload_sha256_hex: &str,
) -> (String, String) {
    let mut sorted: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let value = canonical_header_value(value);
        match sorted.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => sorted.push((name, value)),
        }
    }
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let signed_headers = sorted
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let mut out = format!("{method}\n{canonical_uri}\n{canonical_query}\n");
    for (n, v) in &sorted {
        out.push_str(n);
        out.push(':');
        out.push_str(v);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers);
    out.push('\n');
    out.push_str(payload_sha256_hex);
    (out, signed_headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_arn_paths_are_encoded_twice() {
        assert_eq!(
            canonical_uri(
                "/2015-03-31/functions/arn%3Aaws%3Alambda/invocations",
                false
            ),
            "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations"
        );
    }

    #[test]
    fn normalizes_dot_segments_and_slashes() {
        assert_eq!(canonical_uri("//example//", true), "/example/");
        assert_eq!(canonical_uri("/example/..", true), "/");
        assert_eq!(canonical_uri("/./a/./b/../c", true), "/a/c");
        assert_eq!(canonical_uri("", true), "/");
    }

    #[test]
    fn sorts_and_encodes_the_query() {
        assert_eq!(canonical_query("b=2&a=%241&a=0&c"), "a=%241&a=0&b=2&c=");
        assert_eq!(canonical_query("k=%ff%FF"), "k=%FF%FF");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn folds_header_values_and_joins_repeats() {
        let (creq, signed) = canonical_request(
            "GET",
            "/",
            "",
            &[("My-Header", "  a   b "), ("Host", "h"), ("my-header", "c")],
            "e3",
        );
        assert_eq!(signed, "host;my-header");
        assert_eq!(
            creq,
            "GET\n/\n\nhost:h\nmy-header:a b,c\n\nhost;my-header\ne3"
        );
    }
}
