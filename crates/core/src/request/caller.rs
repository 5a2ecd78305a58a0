//! A request's caller, as the plugin's `caller` setting learns it: the sidecar's own service
//! on the direct path (the same for every request, made once), or on the gateway the identity
//! its sidecar vouched for (`x-forwarded-client-cert`, read per request); then checked
//! against the function's `callers`.
//!
//! On the gateway the header is trusted only from the local hop: the downstream peer (Envoy's
//! `source.address` attribute) must be a loopback address, the gateway's sidecar on the same
//! host (the gateway Envoy listens on 127.0.0.1 only, and its connection manager must keep
//! `source.address` the connection's peer: `use_remote_address: true`, see the docs). Then:
//!
//! | peer     | header     | caller                                                   |
//! |----------|------------|----------------------------------------------------------|
//! | loopback | none       | none                                                     |
//! | loopback | readable   | its last element's SPIFFE ID (`caller::xfcc`)            |
//! | loopback | unreadable | refused (403): the sidecar vouched for someone unknown   |
//! | other    | none       | none (the peer is not read)                              |
//! | other    | any        | `untrusted: refuse` 403, `ignore` none                   |
//!
//! A function with `callers` refuses (403) a request whose caller is none or not listed.
//! Each refusal is a `CallerNotAllowed` reply: counted (`caller_refused`), logged at info
//! with the context id and the caller's identity, the allow-list named to nobody.

use super::settings::FunctionSettings;
use crate::caller::allowed::admitted;
use crate::caller::{xfcc, Caller};
use crate::config::{CallerSource, Untrusted};
use crate::header_pairs;
use crate::host::RequestStream;
use crate::local_reply::LocalReply;
use std::net::{IpAddr, Ipv6Addr};
use std::rc::Rc;

/// The header the gateway's sidecar sets.
pub const XFCC: &str = "x-forwarded-client-cert";
/// Envoy's attribute for the downstream connection's peer address (`ip:port`, `[ip]:port`).
pub const SOURCE_ADDRESS: [&str; 2] = ["source", "address"];

/// How this VM learns a request's caller.
#[derive(Default)]
pub enum CallerLookup {
    /// No `caller` setting: no request has a known caller.
    #[default]
    Unknown,
    /// The direct path: every request's caller is this sidecar's service.
    Configured(Rc<Caller>),
    /// The gateway: the local sidecar's `x-forwarded-client-cert`.
    ForwardedClientCert(Untrusted),
}

impl CallerLookup {
    pub fn new(source: Option<&CallerSource>) -> Self {
        match source {
            None => Self::Unknown,
            Some(CallerSource::Configured { service }) => {
                Self::Configured(Rc::new(Caller::new(service.clone(), None)))
            }
            Some(CallerSource::ForwardedClientCert { untrusted }) => {
                Self::ForwardedClientCert(*untrusted)
            }
        }
    }

    /// The caller of the request on `stream` (whose header map is `headers`), if known, and
    /// whether `function` admits it; else the reply that refuses the request.
    pub fn admit(
        &self,
        function: &FunctionSettings,
        stream: &impl RequestStream,
        headers: &[u8],
    ) -> Result<Option<Rc<Caller>>, LocalReply> {
        let caller = match self {
            Self::Unknown => None,
            Self::Configured(caller) => Some(Rc::clone(caller)),
            Self::ForwardedClientCert(untrusted) => {
                forwarded(*untrusted, stream, headers)?.map(Rc::new)
            }
        };
        let Some(list) = &function.callers else {
            return Ok(caller);
        };
        match caller {
            Some(caller) if admitted(list, &caller) => Ok(Some(caller)),
            Some(caller) => Err(LocalReply::caller_not_allowed(&format!(
                "caller {} is not on the function's callers",
                shown(&caller)
            ))),
            None => Err(LocalReply::caller_not_allowed(
                "the function lists its callers and this request's caller is not known \
                 (no x-forwarded-client-cert from the gateway's sidecar)",
            )),
        }
    }
}

/// How a caller is named in the log: its SPIFFE ID (checked plain ASCII) or service name.
fn shown(caller: &Caller) -> &str {
    caller.spiffe_id.as_deref().unwrap_or(&caller.service)
}

/// The caller the local sidecar vouched for, if any.
fn forwarded(
    untrusted: Untrusted,
    stream: &impl RequestStream,
    headers: &[u8],
) -> Result<Option<Caller>, LocalReply> {
    let Some(header) = header_pairs::find(headers, XFCC) else {
        return Ok(None);
    };
    let peer = stream.property(&SOURCE_ADDRESS);
    if !peer.as_deref().is_some_and(is_loopback_peer) {
        let peer = peer.map(|p| String::from_utf8_lossy(p.get(..64).unwrap_or(&p)).into_owned());
        let peer = peer.as_deref().unwrap_or("unknown");
        return match untrusted {
            Untrusted::Ignore => Ok(None),
            Untrusted::Refuse => Err(LocalReply::caller_not_allowed(&format!(
                "{XFCC} from {peer}, which is not the local sidecar (a loopback address)"
            ))),
        };
    }
    if headers_named(headers, XFCC) > 1 {
        return Err(LocalReply::caller_not_allowed(&format!(
            "{XFCC} given more than once: which is the sidecar's?"
        )));
    }
    xfcc::caller(header).map(Some).map_err(|e| {
        LocalReply::caller_not_allowed(&format!("the local sidecar's {XFCC} names no caller: {e}"))
    })
}

/// How many headers named `name` the map holds (Envoy may keep repeats apart).
fn headers_named(headers: &[u8], name: &str) -> usize {
    header_pairs::parse(headers).map_or(usize::MAX, |pairs| {
        pairs.iter().filter(|(n, _)| *n == name).count()
    })
}

/// Whether Envoy's `source.address` (`127.0.0.1:5678`, `[::1]:5678`) is a loopback address.
pub fn is_loopback_peer(address: &[u8]) -> bool {
    let Ok(address) = std::str::from_utf8(address) else {
        return false;
    };
    let ip = match address.strip_prefix('[') {
        Some(rest) => rest.split_once("]:").map(|(ip, _)| ip),
        None => address.rsplit_once(':').map(|(ip, _)| ip),
    };
    let Some(ip) = ip.and_then(|ip| ip.parse::<IpAddr>().ok()) else {
        return false;
    };
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || mapped_loopback(v6),
    }
}

fn mapped_loopback(v6: Ipv6Addr) -> bool {
    v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
}

#[cfg(test)]
mod tests;
