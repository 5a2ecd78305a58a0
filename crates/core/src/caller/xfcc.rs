//! Envoy's `x-forwarded-client-cert` (XFCC), read for the identity the gateway's own sidecar
//! vouches for.
//!
//! The format (Envoy's docs, configuration/http/http_conn_man/headers "x-forwarded-client-cert",
//! https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert):
//! elements separated by `,`, one per proxy that added one, each appended at the end; an
//! element is `key=value` pairs separated by `;`; keys (`By`, `Hash`, `Cert`, `Chain`,
//! `Subject`, `URI`, `DNS`) are case-insensitive; a value holding `,`, `;` or `=` is
//! double-quoted, a `"` in it written `\"`. Envoy writes it in
//! `source/common/http/conn_manager_utility.cc` (`mutateXfccRequestHeader`): `By=` and
//! `Hash=` bare, `Cert="…"`, `Chain="…"` (URL-encoded PEM) and `Subject="…"` quoted, one bare
//! `URI=` per URI SAN (an empty `URI=` when there is none) and one `DNS=` per DNS SAN, joined
//! by `;`; with `APPEND_FORWARD` it is appended to the incoming value after a `,`.
//!
//! So only the LAST element is the local hop's: Consul's public listener appends
//! (`APPEND_FORWARD`, hashicorp/consul `agent/xds/listeners.go` `makeInboundListener`), and
//! everything before came with the request, from a peer that may have written anything. The
//! whole header is still read strictly (an unbalanced quote in a forged first element could
//! otherwise move where the last one seems to start): anything malformed is an error.

use super::spiffe::{parse_service_id, SpiffeError};
use super::Caller;
use std::fmt;

/// The longest header read: Envoy's default limit for all request headers is 60 KiB
/// (`max_request_headers_kb`); Consul's element carries the certificate and its chain.
pub const MAX_XFCC_BYTES: usize = 64 * 1024;

/// Why a header names no caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XfccError {
    TooLong,
    /// Not the format: what is wrong, at which byte.
    Malformed(&'static str, usize),
    /// The last element has no `spiffe://` URI.
    NoSpiffeId,
    /// The last element has more than one `spiffe://` URI: which one is the caller?
    SeveralSpiffeIds,
    /// Its `spiffe://` URI is not a Consul service's.
    NotAService(SpiffeError),
}

impl fmt::Display for XfccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(f, "longer than {MAX_XFCC_BYTES} bytes"),
            Self::Malformed(what, at) => write!(f, "malformed at byte {at}: {what}"),
            Self::NoSpiffeId => f.write_str("its last element has no spiffe:// URI"),
            Self::SeveralSpiffeIds => f.write_str("its last element has several spiffe:// URIs"),
            Self::NotAService(e) => write!(f, "its spiffe:// URI is {e}"),
        }
    }
}

/// The caller the header's last element names: its one `spiffe://` URI, a Consul service's.
pub fn caller(header: &[u8]) -> Result<Caller, XfccError> {
    let uri = last_spiffe_uri(header)?;
    let id = parse_service_id(uri).map_err(XfccError::NotAService)?;
    Ok(Caller::new(id.service.to_owned(), Some(uri.to_owned())))
}

/// What the element being read holds so far.
#[derive(Default)]
struct Element<'a> {
    spiffe: Option<&'a str>,
    several: bool,
}

/// The one `spiffe://` URI of the last element, the whole header checked.
pub fn last_spiffe_uri(header: &[u8]) -> Result<&str, XfccError> {
    if header.len() > MAX_XFCC_BYTES {
        return Err(XfccError::TooLong);
    }
    let malformed = |what, at| Err(XfccError::Malformed(what, at));
    let mut element = Element::default();
    let mut at = 0;
    loop {
        // A pair: key `=` value.
        let key_start = at;
        while header.get(at).is_some_and(u8::is_ascii_alphabetic) {
            at += 1;
        }
        if at == key_start {
            return malformed("expected a key", at);
        }
        let key = header.get(key_start..at).unwrap_or_default();
        if header.get(at) != Some(&b'=') {
            return malformed("expected '=' after the key", at);
        }
        at += 1;
        let (value, end) = read_value(header, at)?;
        at = end;
        if key.eq_ignore_ascii_case(b"uri") {
            if let Some(uri) = value.filter(|v| v.starts_with(b"spiffe://")) {
                // Checked ASCII by `read_value`.
                let uri = std::str::from_utf8(uri).map_err(|_| XfccError::Malformed("", at))?;
                element.several |= element.spiffe.replace(uri).is_some();
            }
        }
        match header.get(at) {
            None => break,
            Some(b';') => at += 1,
            Some(b',') => {
                at += 1;
                element = Element::default();
            }
            Some(_) => return malformed("expected ';' or ',' after a value", at),
        }
    }
    match element {
        Element { several: true, .. } => Err(XfccError::SeveralSpiffeIds),
        Element { spiffe: None, .. } => Err(XfccError::NoSpiffeId),
        Element {
            spiffe: Some(uri), ..
        } => Ok(uri),
    }
}

/// A value starting at `at`: bare (visible ASCII but `,` `;` `"`), or quoted (printable ASCII,
/// `\` escaping the next byte). `Some(bytes)` when it can be used as it is (bare, or quoted
/// without escapes), `None` when it has escapes (no URI this filter reads has any); and where
/// it ends.
fn read_value(header: &[u8], mut at: usize) -> Result<(Option<&[u8]>, usize), XfccError> {
    if header.get(at) != Some(&b'"') {
        let start = at;
        while header
            .get(at)
            .is_some_and(|&b| b.is_ascii_graphic() && !matches!(b, b',' | b';' | b'"'))
        {
            at += 1;
        }
        return Ok((header.get(start..at), at));
    }
    at += 1;
    let start = at;
    let mut escaped = false;
    loop {
        match header.get(at) {
            None => return Err(XfccError::Malformed("unterminated quoted value", at)),
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                match header.get(at + 1) {
                    Some(b) if (b' '..=b'~').contains(b) => at += 2,
                    _ => return Err(XfccError::Malformed("a '\\' escapes nothing", at)),
                }
            }
            Some(b) if (b' '..=b'~').contains(b) => at += 1,
            Some(_) => return Err(XfccError::Malformed("not printable ASCII", at)),
        }
    }
    let value = header.get(start..at).filter(|_| !escaped);
    Ok((value, at + 1))
}

#[cfg(test)]
mod tests;
