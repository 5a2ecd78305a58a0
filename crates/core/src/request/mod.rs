//! The request path, written against the host traits: `settings` holds a function's settings
//! (`Plugin`, here, the VM's state beside them), `identity` the credentials it signs with
//! (one per distinct `credentials` setting), `caller` learns who called, `flow` takes a stream from its headers to a
//! signed Invoke call (or a local reply), one phase at a time, `answer` says what the caller
//! gets back from Lambda's answer, `decision` says whether a request is signed, is answered
//! or waits for credentials, `waiting` owns the requests that wait, `rewrite` turns a
//! buffered request into the signed call in one step, `signing_time` says at what time,
//! `callout` sends an event's call and answers from its result, `tenant`
//! finds a tenant-isolated function's tenant id, `streamed` passes a
//! streamed answer on as it arrives, and `body_delivery` notices an Envoy that holds bodies
//! back.

pub mod answer;
pub mod body_delivery;
pub mod caller;
pub mod callout;
pub mod decision;
pub mod error_body;
pub mod flow;
pub mod identity;
pub mod rewrite;
pub mod select;
pub mod settings;
pub mod signing_time;
pub mod streamed;
pub mod tenant;
pub mod waiting;

use crate::caller::Caller;
use crate::config::FilterConfig;
use crate::host::RequestStream;
use crate::invoke::SigningCache;
use crate::local_reply::LocalReply;
use crate::metrics::{Counter, Gauge, Metrics};
use crate::stream_log;
use body_delivery::BodyDelivery;
use caller::CallerLookup;
use callout::StreamCallouts;
use identity::Identity;
use mesh_lambda_sha256::Sha256;
use select::Functions;
use signing_time::ClockReading;
use std::cell::RefCell;
use std::rc::Rc;
use waiting::WaitingRequests;

/// What a stream callback tells the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Pause,
}

/// What the root context and the streams of one VM share: the functions' settings, and the
/// VM's state (identities' credentials, signing caches, waiting requests, metrics).
pub struct Plugin {
    /// The settings of the functions this filter invokes (one, or several by route).
    pub functions: Functions,
    /// The filter's own replies carry the full reason (else a fixed summary).
    pub detailed_errors: bool,
    /// The identities its functions sign as, each with this VM's copy of its shared
    /// credential state (a credential agent each keeps it current): at least one, the first
    /// function's first. A function reaches its own through its settings.
    pub identities: Vec<Rc<Identity>>,
    /// Signing keys and per-second signing states, kept per target.
    pub signer: RefCell<SigningCache>,
    /// Requests paused until credentials arrive.
    pub waiting: RefCell<WaitingRequests>,
    /// Whether Envoy delivers request bodies (it holds them back without
    /// `allow_on_headers_stop_iteration`).
    pub body_delivery: BodyDelivery,
    /// Invoke calls sent from the timer for waiting requests (event formats, no body).
    pub stream_callouts: RefCell<StreamCallouts>,
    /// This VM's metrics (defined by the glue at configure time, flushed by its timer).
    pub metrics: Metrics,
    /// The last clock reading (the root timer's, or a request's), which a few passthrough
    /// requests are signed at (`signing_time`).
    pub clock_reading: ClockReading,
    /// The Wasm plugin's name (set by the glue): the value of the header a route for this
    /// filter's signed calls matches (`invoke::outgoing::ROUTE_HEADER`).
    pub route_key: String,
    /// How a request's caller is learned (the `caller` setting).
    pub callers: CallerLookup,
}

impl Plugin {
    /// The single form's plugin.
    pub fn new(config: &FilterConfig) -> Self {
        Self::of(Functions::one(config), config)
    }

    /// A plugin for `functions`, with the VM-wide settings of `shared` (any function's
    /// configuration: they are the same in all).
    pub fn of(functions: Functions, shared: &FilterConfig) -> Self {
        Self {
            identities: identity::distinct(functions.all().map(|f| &f.identity)),
            functions,
            detailed_errors: shared.detailed_errors,
            signer: RefCell::new(SigningCache::default()),
            waiting: RefCell::new(WaitingRequests::default()),
            body_delivery: BodyDelivery::default(),
            stream_callouts: RefCell::new(StreamCallouts::default()),
            metrics: Metrics::default(),
            clock_reading: ClockReading::default(),
            route_key: String::new(),
            callers: CallerLookup::new(shared.caller.as_ref()),
        }
    }
}

impl Plugin {
    /// The credential gauges' values at `now_ms`: with several identities, the soonest
    /// expiry (of those that expire) and the oldest fetch, which is what an alert on them
    /// wants; with one, its own.
    pub fn credential_gauges(&self, now_ms: u64) -> [(Gauge, u64); 2] {
        let (mut expiry, mut age) = (0, 0);
        for identity in &self.identities {
            let (e, a) = identity.credentials.borrow().expiry_and_age_seconds(now_ms);
            if e > 0 && (expiry == 0 || e < expiry) {
                expiry = e;
            }
            age = age.max(a);
        }
        [
            (Gauge::CredentialsExpirySeconds, expiry),
            (Gauge::CredentialsAgeSeconds, age),
        ]
    }
}

/// Answers a request with the filter's own JSON error, logs why (the full reason, which the
/// caller reads only with `detailed_errors`), and counts it.
pub fn send_local_reply(
    plugin: &Plugin,
    context_id: u32,
    stream: &impl RequestStream,
    reply: &LocalReply,
) {
    note_reply(&plugin.metrics, context_id, reply);
    if let Err(e) = stream.send_reply(reply, plugin.detailed_errors) {
        stream_log!(error, context_id, "cannot send the local reply: {e}");
    }
}

/// Counts a reply by its code and logs it, with its full reason and the stream's context id:
/// at warn, as the cause is this request's, unless it is logged once already or is the
/// caller's (info).
pub fn note_reply(metrics: &Metrics, context_id: u32, reply: &LocalReply) {
    metrics.count(Counter::reply(reply.code));
    let (status, code, message) = (reply.status, reply.code, &reply.message);
    if reply.cause_logged_once() {
        stream_log!(info, context_id, "{status} {code}: {message}");
    } else {
        stream_log!(warn, context_id, "{status} {code}: {message}");
    }
}

/// A request whose body is buffered, ready to be signed and sent.
#[derive(Debug, Clone, Default)]
pub struct ReadyRequest {
    /// Passthrough: the body's SHA-256 so far, fed as the body arrives (each byte read once,
    /// the hashing off the critical path of a large body); complete once the body is.
    pub body_hash: BodyHash,
    /// The caller's headers as the host serialized them, read once: the event carries them,
    /// passthrough takes `invoke::outgoing::FORWARDED` from them.
    pub serialized_headers: Vec<u8>,
    pub body_size: usize,
    /// A body callback came (possibly empty); false when the request ended at its headers.
    pub had_body: bool,
    /// Who called, when the `caller` setting says (learned at the request's headers).
    pub caller: Option<Rc<Caller>>,
    /// The tenant id sent with the call (a tenant-isolated function's, checked at the
    /// request's headers).
    pub tenant_id: Option<String>,
}

/// A body's SHA-256, fed in the order the body arrives.
#[derive(Debug, Clone, Default)]
pub struct BodyHash {
    state: Sha256,
    /// Bytes hashed so far.
    hashed: usize,
}

impl BodyHash {
    /// Feeds the body's bytes the hash has not seen, up to `body_size` (what is buffered).
    pub fn catch_up(
        &mut self,
        stream: &impl RequestStream,
        body_size: usize,
    ) -> Result<(), String> {
        let Some(new) = body_size.checked_sub(self.hashed).filter(|&n| n > 0) else {
            return if body_size < self.hashed {
                Err(format!(
                    "the buffered body shrank from {} to {body_size} bytes",
                    self.hashed
                ))
            } else {
                Ok(())
            };
        };
        let bytes = stream
            .request_body(self.hashed, new)
            .map_err(|e| format!("cannot read the request body: {e}"))?;
        if bytes.len() != new {
            return Err(format!(
                "read {} of {body_size} body bytes",
                self.hashed + bytes.len()
            ));
        }
        self.state.update(&bytes);
        self.hashed = body_size;
        Ok(())
    }

    pub fn hashed(&self) -> usize {
        self.hashed
    }

    /// The hash, as hex.
    pub fn hex(&self) -> [u8; 64] {
        crate::sigv4::hex_digest(&self.state.digest())
    }
}

#[cfg(test)]
mod identity_tests;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::access_keys::Credentials;
    use crate::config::parse_config;

    pub const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
    /// 2015-08-30T12:36:00Z, in ms.
    pub const NOW_MS: u64 = 1_440_938_160_000;

    /// A plugin for `ARN` with the fields of `extra`; passthrough unless `extra` says.
    pub fn plugin(extra: &str) -> Plugin {
        let mode = if extra.contains("payload_passthrough") {
            ""
        } else {
            r#","payload_passthrough":true"#
        };
        let json = format!(r#"{{"arn":"{ARN}"{mode}{extra}}}"#);
        let config = parse_config(json.as_bytes()).unwrap();
        Plugin::new(&config)
    }

    pub fn credentials(expires_at: Option<u64>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
            expires_at,
        }
    }

    /// The single form's function.
    pub fn function(p: &Plugin) -> std::rc::Rc<settings::FunctionSettings> {
        match &p.functions {
            Functions::One(f) => std::rc::Rc::clone(f),
            Functions::ByRoute(_) => panic!("not the single form"),
        }
    }

    /// A plugin whose VM holds long-term credentials.
    /// The plugin of a whole configuration (either form), named `mesh_lambda`, with
    /// credentials.
    pub fn plugin_of(json: &str) -> Plugin {
        let config = crate::config::parse_plugin_config(json.as_bytes()).unwrap();
        let shared = config.shared().unwrap().clone();
        let functions = select::Functions::new(&config);
        let mut p = Plugin::of(functions, &shared);
        p.route_key = "mesh_lambda".into();
        *p.identities[0].credentials.borrow_mut() =
            crate::credentials::shared::SharedRecord::succeeded(
                "environment",
                credentials(None),
                NOW_MS,
                300,
            );
        p
    }

    pub fn plugin_with_credentials(extra: &str) -> Plugin {
        let p = plugin(extra);
        *p.identities[0].credentials.borrow_mut() =
            crate::credentials::shared::SharedRecord::succeeded(
                "environment",
                credentials(None),
                NOW_MS,
                300,
            );
        p
    }
}
