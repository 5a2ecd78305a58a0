//! The header map of the outgoing Invoke call (passthrough), built from scratch and written in
//! one host call: `:method: POST`, `:scheme`, the filter's own headers, `content-length`, and
//! of the caller's headers only those in `FORWARDED`. Nothing else the caller sent reaches
//! AWS, by construction.
//!
//! Envoy selects the route again for the written map (the route cache is cleared on header
//! writes of ABI 0.2.1). So that no other route of a shared listener can claim the signed
//! call, `:authority` stays the caller's (the virtual host chosen is the one the caller's
//! request was in) and `ROUTE_HEADER` names the filter that signed it (a route for one
//! upstream matches on it); the route sets the Lambda host the signature covers on the way
//! out (`host_rewrite_literal`) and removes `ROUTE_HEADER`.

use crate::header_pairs;

/// The caller's headers that go on with the call: the protocol Envoy's
/// connection manager recorded (Envoy finds no route for a request without it, and the
/// rewritten request is routed again), Envoy's request id (access logs and traces keep it),
/// and the X-Ray trace header, which Lambda continues a trace from (unless
/// `forward_trace_id: false`: its `Sampled=` is the caller's choice). None is signed.
pub const FORWARDED: [&str; 3] = ["x-forwarded-proto", "x-request-id", TRACE_ID];

/// The X-Ray trace header.
pub const TRACE_ID: &str = "x-amzn-trace-id";

/// The header the filter writes from scratch with its plugin name (the Wasm config's
/// `name`): a route matching it is reached only by calls that filter signed.
pub const ROUTE_HEADER: &str = "x-mesh-lambda-route";

/// The route key of a filter named `plugin_name` (the Wasm config's `name`): refused when a
/// header value cannot carry it as it is (control bytes, non-ASCII, spaces at its ends).
pub fn route_key(plugin_name: &[u8]) -> Result<String, String> {
    let printable = plugin_name.iter().all(|b| (0x20..0x7f).contains(b));
    match std::str::from_utf8(plugin_name) {
        Ok(name) if printable && name.trim() == name => Ok(name.to_owned()),
        _ => Err(format!(
            "the Wasm plugin's name {:?} cannot be the value of {ROUTE_HEADER} (printable ASCII, no spaces at its ends)",
            String::from_utf8_lossy(plugin_name)
        )),
    }
}

/// Lambda is reached over HTTPS; an HTTP/2 cluster needs the pseudo-header.
const SCHEME: &str = "https";

/// What the signed call is routed by: the caller's `:authority`, and the route key
/// (`ROUTE_HEADER`'s value; none when empty).
pub struct Route<'a> {
    pub authority: &'a [u8],
    pub key: &'a str,
}

/// The serialized outgoing map: `ours` are the filter's headers (`:path`, `:authority`, the
/// signature's) with `:authority` replaced by `route`'s, `forwarded` the caller's values of
/// `FORWARDED` names it sent.
pub fn outgoing_headers(
    ours: &[(&'static str, &str)],
    route: &Route,
    forwarded: &[(&str, &[u8])],
    body_len: usize,
) -> Result<Vec<u8>, &'static str> {
    let mut digits = [0u8; 20];
    let content_length = decimal(body_len, &mut digits);
    let mut headers: Vec<(&str, &[u8])> = Vec::with_capacity(ours.len() + forwarded.len() + 4);
    headers.push((":method", b"POST"));
    headers.push((":scheme", SCHEME.as_bytes()));
    headers.extend(ours.iter().map(|&(n, v)| match n {
        ":authority" => (n, route.authority),
        _ => (n, v.as_bytes()),
    }));
    if !route.key.is_empty() {
        headers.push((ROUTE_HEADER, route.key.as_bytes()));
    }
    headers.push(("content-length", content_length));
    headers.extend(
        forwarded
            .iter()
            .filter(|(name, _)| FORWARDED.contains(name))
            .map(|(n, v)| (*n, *v)),
    );
    header_pairs::serialize(&headers).ok_or("the request headers are too large")
}

/// `n` in decimal, written into `digits` (`to_string` goes through the formatting machinery,
/// slow in a size-optimized module, and allocates).
fn decimal(mut n: usize, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            // n % 10 < 10: the cast cannot truncate.
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    digits.get(start..).unwrap_or_default()
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

    #[test]
    fn the_method_ours_the_length_and_the_forwarded_in_order() {
        let ours = [
            (":path", "/2015-03-31/functions/f/invocations"),
            (":authority", "lambda.us-east-1.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", "AWS4-HMAC-SHA256 ..."),
        ];
        let forwarded = [
            ("x-request-id", &b"abc"[..]),
            (
                "x-amzn-trace-id",
                &b"Root=1-5759e988-bd862e3fe1be46a994272793"[..],
            ),
        ];
        let route = Route {
            authority: b"authentication.internal:2345",
            key: "mesh-lambda/authentication",
        };
        let out = names_and_values(&outgoing_headers(&ours, &route, &forwarded, 2).unwrap());
        let expected: Vec<(String, String)> = [
            (":method", "POST"),
            (":scheme", "https"),
            (":path", "/2015-03-31/functions/f/invocations"),
            (":authority", "authentication.internal:2345"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", "AWS4-HMAC-SHA256 ..."),
            ("x-mesh-lambda-route", "mesh-lambda/authentication"),
            ("content-length", "2"),
            ("x-request-id", "abc"),
            (
                "x-amzn-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793",
            ),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_route_key_is_the_plugin_name_when_a_header_value_can_carry_it() {
        assert_eq!(
            route_key(b"mesh-lambda/authentication").as_deref(),
            Ok("mesh-lambda/authentication")
        );
        assert_eq!(route_key(b"").as_deref(), Ok(""));
        for bad in [
            &b"a\nb"[..],
            b"a\x7f",
            b" a",
            b"a ",
            "caf\u{e9}".as_bytes(),
            b"\xff",
        ] {
            let error = route_key(bad).unwrap_err();
            assert!(error.contains("x-mesh-lambda-route"), "{error}");
        }
    }

    #[test]
    fn lengths_in_decimal() {
        let mut digits = [0u8; 20];
        for n in [0, 7, 10, 99, 100, 6_291_456, usize::MAX] {
            assert_eq!(decimal(n, &mut digits), n.to_string().as_bytes());
        }
    }

    #[test]
    fn only_forwarded_names_are_taken_from_the_caller() {
        let forwarded = [
            ("authorization", &b"Bearer client"[..]),
            ("x-amz-invocation-type", &b"Event"[..]),
        ];
        let route = Route {
            authority: b"a",
            key: "",
        };
        let out = names_and_values(&outgoing_headers(&[], &route, &forwarded, 0).unwrap());
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(out.contains(&("content-length".into(), "0".into())));
    }

    #[test]
    fn the_callers_authority_replaces_the_lambda_host_and_an_empty_key_writes_no_header() {
        let ours = [(":authority", "lambda.us-east-1.amazonaws.com")];
        let route = Route {
            authority: b"api.example.com",
            key: "",
        };
        let out = names_and_values(&outgoing_headers(&ours, &route, &[], 0).unwrap());
        assert!(out.contains(&(":authority".into(), "api.example.com".into())));
        assert!(!out
            .iter()
            .any(|(n, v)| n == ROUTE_HEADER || v.contains("amazonaws")));
    }
}
