//! Who called: the mesh service a request comes from, as the gateway's sidecar vouches for it
//! (its client certificate, in `x-forwarded-client-cert`) or, on the direct path, as the
//! sidecar's own configuration names its service. Functions may list the callers allowed to
//! invoke them, and learn who called them.

pub mod allowed;
pub mod spiffe;
pub mod xfcc;

use std::cell::OnceCell;

/// The keys a function reads the caller under: in the client context's `custom` map and in
/// the `api_gateway_v2` event's `requestContext.authorizer.lambda`.
pub const SERVICE_KEY: &str = "mesh-caller-service";
pub const SPIFFE_ID_KEY: &str = "mesh-caller-spiffe-id";

/// A mesh caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The Consul service name.
    pub service: String,
    /// The caller's SPIFFE ID (`spiffe://<trust domain>/ns/<namespace>/dc/<dc>/svc/<service>`),
    /// when a certificate vouched for it; `None` when only configured.
    pub spiffe_id: Option<String>,
    /// The identity as handed to the function (`invoke::client_context`), made on first use:
    /// once per caller, not per request.
    encoded: OnceCell<Result<String, String>>,
}

impl Caller {
    pub fn new(service: String, spiffe_id: Option<String>) -> Self {
        Self {
            service,
            spiffe_id,
            encoded: OnceCell::new(),
        }
    }

    /// What `encode` makes of this caller, made on the first call and kept.
    pub fn encoded_once(
        &self,
        encode: impl FnOnce(&Self) -> Result<String, String>,
    ) -> Result<&str, &str> {
        match self.encoded.get_or_init(|| encode(self)) {
            Ok(value) => Ok(value),
            Err(reason) => Err(reason),
        }
    }
}

/// Two callers are the same caller when their identities are (whatever was made of them).
impl PartialEq for Caller {
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service && self.spiffe_id == other.spiffe_id
    }
}

impl Eq for Caller {}

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
