use super::*;

const TD: &str = "11111111-2222-3333-4444-555555555555.consul";

fn id(service: &str) -> String {
    format!("spiffe://{TD}/ns/default/dc/dc1/svc/{service}")
}

/// An element as Envoy writes it for Consul's public listener (Subject, Cert, Chain, DNS and
/// URI set: hashicorp/consul `agent/xds/listeners.go`, `SetCurrentClientCertDetails`).
fn envoy_element(service: &str) -> String {
    format!(
        "By={};Hash=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08;\
         Cert=\"-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%3D%0A-----END%20CERTIFICATE-----%0A\";\
         Chain=\"-----BEGIN%20CERTIFICATE-----%0AMIIB%0A-----END%20CERTIFICATE-----%0A\";\
         Subject=\"CN={service},O=Consul\\, Inc.,OU=\\\"mesh\\\"\";URI={}",
        id("lambda-gateway"),
        id(service)
    )
}

fn caller_of(header: &str) -> Result<Caller, XfccError> {
    caller(header.as_bytes())
}

#[test]
fn envoys_element_names_its_uri_san() {
    let got = caller_of(&envoy_element("api")).unwrap();
    assert_eq!(got.service, "api");
    assert_eq!(got.spiffe_id.as_deref(), Some(id("api").as_str()));
    // Keys are case-insensitive; the URI may be quoted.
    let got = caller_of(&format!("uri=\"{}\";dns=api.internal", id("web"))).unwrap();
    assert_eq!(got.service, "web");
}

#[test]
fn only_the_last_element_counts() {
    // What Consul's APPEND_FORWARD makes of a forged header: the forgery first, the sidecar's
    // own element last.
    let forged = format!("URI={};Subject=\"CN=billing\"", id("billing"));
    let header = format!("{forged},{}", envoy_element("api"));
    assert_eq!(caller_of(&header).unwrap().service, "api");
    // And the other way round: a last element without a URI names nobody, whatever came first.
    let header = format!("{},By={};URI=", envoy_element("api"), id("x"));
    assert_eq!(caller_of(&header), Err(XfccError::NoSpiffeId));
}

#[test]
fn several_uris_one_spiffe_id() {
    let header = format!("URI=https://example.com/x;URI={};URI=urn:x", id("api"));
    assert_eq!(caller_of(&header).unwrap().service, "api");
    let header = format!("URI={};URI={}", id("api"), id("web"));
    assert_eq!(caller_of(&header), Err(XfccError::SeveralSpiffeIds));
}

#[test]
fn no_or_other_uris_name_nobody() {
    for header in [
        "Hash=abc;Subject=\"\";URI=".to_owned(),
        "Hash=abc".to_owned(),
        "URI=https://api.example.com".to_owned(),
        "DNS=api.service.consul".to_owned(),
        format!("By={}", id("api")),
    ] {
        assert_eq!(caller_of(&header), Err(XfccError::NoSpiffeId), "{header}");
    }
    assert_eq!(
        caller_of(&format!("URI=spiffe://{TD}/gateway/mesh/dc/dc1")),
        Err(XfccError::NotAService(SpiffeError::NotAService))
    );
}

#[test]
fn malformed_headers_are_refused() {
    let cases = [
        "",
        ",",
        "URI",
        "=x",
        "URI=a,",
        "URI=a;",
        "URI=a,,URI=b",
        "URI=\"spiffe://x",
        "Subject=\"a\"b;URI=x",
        "Subject=\"a\\",
        "URI=a b",
        "URI=a\"b",
        " URI=a",
        "Subject=\"\u{e9}\"",
        "Subject=\"a\tb\"",
        "U-RI=a",
        "URI=a\n",
    ];
    for header in cases {
        assert!(
            matches!(caller_of(header), Err(XfccError::Malformed(..))),
            "{header:?}: {:?}",
            caller_of(header)
        );
    }
    // A forged element with an open quote swallows the sidecar's: the whole is refused, never
    // read from where the forgery chose.
    let header = format!("By=\"\\,{}", envoy_element("api"));
    assert!(matches!(caller_of(&header), Err(XfccError::Malformed(..))));
    let header = format!("Subject=\"x,{}", envoy_element("api"));
    assert!(matches!(caller_of(&header), Err(XfccError::Malformed(..))));
}

#[test]
fn lengths_are_bounded() {
    let padding = "a".repeat(MAX_XFCC_BYTES);
    let header = format!("Subject=\"{padding}\",{}", envoy_element("api"));
    assert_eq!(caller_of(&header), Err(XfccError::TooLong));
    let long_uri = format!("{}{}", id("api"), "a".repeat(2048));
    assert_eq!(
        caller_of(&format!("URI={long_uri}")),
        Err(XfccError::NotAService(SpiffeError::TooLong))
    );
    // Just within: a long forged prefix does not hide the sidecar's element.
    let element = envoy_element("api");
    let fill = MAX_XFCC_BYTES - element.len() - "Subject=\"\",".len();
    let header = format!("Subject=\"{}\",{element}", "a".repeat(fill));
    assert_eq!(header.len(), MAX_XFCC_BYTES);
    assert_eq!(caller_of(&header).unwrap().service, "api");
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(
        XfccError::Malformed("expected a key", 0).to_string(),
        "malformed at byte 0: expected a key"
    );
    assert!(XfccError::NotAService(SpiffeError::NotSpiffe)
        .to_string()
        .contains("not a spiffe:// URI"));
}
