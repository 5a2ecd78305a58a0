//! A request's caller, as the plugin's `caller` setting learns it: the sidecar's own service
//! on the direct path (the same for every request, made once), or on the gateway the identity
//! its sidecar vouched for (`x-forwarded-client-cert`, read per request).

use crate::caller::Caller;
use crate::config::CallerSource;
use std::rc::Rc;

/// How this VM learns a request's caller.
#[derive(Default)]
pub enum CallerLookup {
    /// No `caller` setting: no request has a known caller.
    #[default]
    Unknown,
    /// The direct path: every request's caller is this sidecar's service.
    Configured(Rc<Caller>),
}

impl CallerLookup {
    pub fn new(source: Option<&CallerSource>) -> Self {
        match source {
            None => Self::Unknown,
            Some(CallerSource::Configured { service }) => {
                Self::Configured(Rc::new(Caller::new(service.clone(), None)))
            }
            // Issue 20 item 3 (branch `callers`) reads the gateway's sidecar's certificate.
            Some(CallerSource::ForwardedClientCert { .. }) => Self::Unknown,
        }
    }

    /// The request's caller, if known.
    pub fn caller(&self) -> Option<Rc<Caller>> {
        match self {
            Self::Unknown => None,
            Self::Configured(caller) => Some(Rc::clone(caller)),
        }
    }
}
