//! Consul's SPIFFE IDs for services: `spiffe://<trust domain>/ns/<namespace>/dc/<dc>/svc/<service>`,
//! with `/ap/<partition>` first when the partition is not `default` (hashicorp/consul
//! `agent/connect/uri_service.go`, `SpiffeIDService.uriPath`: the path is
//! `/ns/%s/dc/%s/svc/%s`, prefixed `/ap/` + partition unless it is empty or `default`).
//!
//! Read strictly: the SPIFFE ID spec (spiffe/spiffe `standards/SPIFFE-ID.md`, 2.1 and 2.3)
//! bounds an ID at 2048 bytes and a trust domain at 255, trust domains are lower-case letters,
//! digits, `.`, `-`, `_`, and path segments letters, digits, `.`, `-`, `_`. Anything else
//! (percent-encoding, a port, user info, empty segments, a query) is refused: a certificate
//! Consul's CA signs never has it, and a name that could be spelled two ways could match an
//! allow-list one way and be logged the other.

use super::is_service_name;
use std::fmt;

/// The longest SPIFFE ID (SPIFFE-ID.md 2.3, "the maximum length of a SPIFFE ID is 2048 bytes").
pub const MAX_SPIFFE_ID: usize = 2048;
/// The longest trust domain (SPIFFE-ID.md 2.3: the URI host, at most 255 bytes).
const MAX_TRUST_DOMAIN: usize = 255;
const SCHEME: &str = "spiffe://";

/// A Consul service's SPIFFE ID, its parts borrowed from the ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceId<'a> {
    pub trust_domain: &'a str,
    /// `None`: the `default` partition (Consul writes no `/ap/` for it).
    pub partition: Option<&'a str>,
    pub namespace: &'a str,
    pub datacenter: &'a str,
    pub service: &'a str,
}

impl ServiceId<'_> {
    /// Whether this is the service `name` in namespace `default` and partition `default`: what
    /// a bare service name in a `callers` list means.
    pub fn is_default_service(&self, name: &str) -> bool {
        self.service == name
            && self.namespace == "default"
            && self.partition.is_none_or(|p| p == "default")
    }
}

/// Why a URI is not a Consul service's SPIFFE ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpiffeError {
    TooLong,
    NotSpiffe,
    BadTrustDomain,
    /// The path is not `[/ap/<partition>]/ns/<ns>/dc/<dc>/svc/<service>`.
    NotAService,
    /// The service segment is not a service name (`caller::is_service_name`).
    BadServiceName,
}

impl fmt::Display for SpiffeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLong => "longer than 2048 bytes",
            Self::NotSpiffe => "not a spiffe:// URI",
            Self::BadTrustDomain => "its trust domain is not 1 to 255 of a-z, 0-9, '.', '-', '_'",
            Self::NotAService => {
                "not a Consul service identity ([/ap/<partition>]/ns/<ns>/dc/<dc>/svc/<service>)"
            }
            Self::BadServiceName => "its service is not a service name",
        })
    }
}

fn trust_domain_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
}

fn segment_ok(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Reads `uri` as a Consul service's SPIFFE ID.
pub fn parse_service_id(uri: &str) -> Result<ServiceId<'_>, SpiffeError> {
    if uri.len() > MAX_SPIFFE_ID {
        return Err(SpiffeError::TooLong);
    }
    let rest = uri.strip_prefix(SCHEME).ok_or(SpiffeError::NotSpiffe)?;
    let (trust_domain, path) = rest.split_once('/').ok_or(SpiffeError::NotAService)?;
    if trust_domain.is_empty()
        || trust_domain.len() > MAX_TRUST_DOMAIN
        || !trust_domain.bytes().all(trust_domain_byte)
    {
        return Err(SpiffeError::BadTrustDomain);
    }
    // At most 8 segments are read: a longer path is not a service's.
    let mut segments = [""; 8];
    let mut count = 0;
    for segment in path.split('/') {
        match segments.get_mut(count) {
            Some(slot) if segment_ok(segment) => *slot = segment,
            _ => return Err(SpiffeError::NotAService),
        }
        count += 1;
    }
    let (partition, namespace, datacenter, service) = match segments.get(..count).unwrap_or(&[]) {
        ["ns", ns, "dc", dc, "svc", svc] => (None, *ns, *dc, *svc),
        ["ap", ap, "ns", ns, "dc", dc, "svc", svc] => (Some(*ap), *ns, *dc, *svc),
        _ => return Err(SpiffeError::NotAService),
    };
    if !is_service_name(service) {
        return Err(SpiffeError::BadServiceName);
    }
    Ok(ServiceId {
        trust_domain,
        partition,
        namespace,
        datacenter,
        service,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::MAX_SERVICE_NAME;

    const TD: &str = "11111111-2222-3333-4444-555555555555.consul";

    #[test]
    fn consuls_service_form_with_and_without_a_partition() {
        let uri = format!("spiffe://{TD}/ns/default/dc/dc1/svc/api");
        let id = parse_service_id(&uri).unwrap();
        assert_eq!(
            id,
            ServiceId {
                trust_domain: TD,
                partition: None,
                namespace: "default",
                datacenter: "dc1",
                service: "api"
            }
        );
        assert!(id.is_default_service("api"));
        assert!(!id.is_default_service("web"));
        let uri = format!("spiffe://{TD}/ap/eu/ns/team-a/dc/dc1/svc/web");
        let id = parse_service_id(&uri).unwrap();
        assert_eq!(
            (id.partition, id.namespace, id.service),
            (Some("eu"), "team-a", "web")
        );
        assert!(!id.is_default_service("web"));
        let uri = format!("spiffe://{TD}/ap/default/ns/default/dc/dc1/svc/web");
        assert!(parse_service_id(&uri).unwrap().is_default_service("web"));
        let uri = format!("spiffe://{TD}/ns/other/dc/dc1/svc/web");
        assert!(!parse_service_id(&uri).unwrap().is_default_service("web"));
    }

    #[test]
    fn anything_else_is_refused() {
        let long = format!("spiffe://{TD}/ns/default/dc/dc1/svc/{}", "a".repeat(2048));
        let cases: Vec<(String, SpiffeError)> = vec![
            (long, SpiffeError::TooLong),
            (
                "https://x/ns/default/dc/dc1/svc/api".into(),
                SpiffeError::NotSpiffe,
            ),
            (
                "SPIFFE://td/ns/default/dc/dc1/svc/api".into(),
                SpiffeError::NotSpiffe,
            ),
            ("spiffe://td".into(), SpiffeError::NotAService),
            (
                "spiffe:///ns/default/dc/dc1/svc/api".into(),
                SpiffeError::BadTrustDomain,
            ),
            (
                "spiffe://TD/ns/default/dc/dc1/svc/api".into(),
                SpiffeError::BadTrustDomain,
            ),
            (
                "spiffe://td:443/ns/default/dc/dc1/svc/api".into(),
                SpiffeError::BadTrustDomain,
            ),
            (
                "spiffe://u@td/ns/default/dc/dc1/svc/api".into(),
                SpiffeError::BadTrustDomain,
            ),
            (
                format!("spiffe://{}/ns/d/dc/d/svc/a", "a".repeat(256)),
                SpiffeError::BadTrustDomain,
            ),
            (
                "spiffe://td/agent/client/dc/dc1/id/x".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/gateway/mesh/dc/dc1".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ns/default/dc/dc1/svc/api/".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ns/default/dc/dc1/svc/a%70i".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ns//dc/dc1/svc/api".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ns/default/dc/dc1/svc/api?x".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ap/x/ns/default/dc/dc1/svc/api/more".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ns/default/dc/dc1/svc".into(),
                SpiffeError::NotAService,
            ),
            (
                "spiffe://td/ns/default/dc/dc1/svc/ä".into(),
                SpiffeError::NotAService,
            ),
            (
                format!(
                    "spiffe://td/ns/default/dc/dc1/svc/{}",
                    "a".repeat(MAX_SERVICE_NAME + 1)
                ),
                SpiffeError::BadServiceName,
            ),
        ];
        for (uri, expected) in cases {
            assert_eq!(parse_service_id(&uri), Err(expected), "{uri}");
        }
    }
}
