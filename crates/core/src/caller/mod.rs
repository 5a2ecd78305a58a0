//! Who called: the mesh service a request comes from, as the gateway's sidecar vouches for it
//! (its client certificate, in `x-forwarded-client-cert`) or, on the direct path, as the
//! sidecar's own configuration names its service. Functions may list the callers allowed to
//! invoke them, and learn who called them.

pub mod allowed;
pub mod spiffe;
pub mod xfcc;

/// A mesh caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The Consul service name.
    pub service: String,
    /// The caller's SPIFFE ID (`spiffe://<trust domain>/ns/<namespace>/dc/<dc>/svc/<service>`),
    /// when a certificate vouched for it; `None` when only configured.
    pub spiffe_id: Option<String>,
}

/// The longest service name taken (Consul's names are DNS labels of at most 63 bytes where
/// DNS reaches them; some registrations are longer).
pub const MAX_SERVICE_NAME: usize = 128;

/// Whether `name` can be a mesh service's name here: 1 to `MAX_SERVICE_NAME` bytes of ASCII
/// letters, digits, `-`, `_` and `.`. Such a name needs no quoting in a log, a header or JSON.
pub fn is_service_name(name: &str) -> bool {
    (1..=MAX_SERVICE_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_name_is_plain_and_short() {
        assert!(is_service_name("api"));
        assert!(is_service_name("billing-v2.internal_x"));
        assert!(is_service_name(&"a".repeat(MAX_SERVICE_NAME)));
        for bad in ["", "a b", "api/x", "ä", "a\"b", "a\n"] {
            assert!(!is_service_name(bad), "{bad:?}");
        }
        assert!(!is_service_name(&"a".repeat(MAX_SERVICE_NAME + 1)));
    }
}
