//! Who called: the mesh service a request comes from, as the gateway's sidecar vouches for it
//! (its client certificate, in `x-forwarded-client-cert`) or, on the direct path, as the
//! sidecar's own configuration names its service. Functions may list the callers allowed to
//! invoke them, and learn who called them.

/// A mesh caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The Consul service name.
    pub service: String,
    /// The caller's SPIFFE ID (`spiffe://<trust domain>/ns/<namespace>/dc/<dc>/svc/<service>`),
    /// when a certificate vouched for it; `None` when only configured.
    pub spiffe_id: Option<String>,
}
