//! A buffered request becomes the signed Invoke call in one step: read the body, sign it,
//! write the whole outgoing header map once (built from scratch: `invoke::outgoing`). On error nothing was written: the caller answers
//! locally, and the request never leaves unsigned.
//!
//! With an event format the request becomes an event, and the filter sends that Invoke call
//! itself (`callout`), through the route's cluster, then answers the request from the
//! function's result: a request that ended at its headers has no body the event could replace
//! (a wasm filter cannot add one), and answering from the call keeps the result mapping out of
//! the response path, where every passthrough request would pay for a response-body callback.

use super::settings::FunctionSettings;
use super::{callout, Plugin, ReadyRequest};
use crate::access_keys::Credentials;
use crate::event::{EventContext, PayloadFormat};
use crate::header_pairs;
use crate::host::RequestStream;
use crate::invoke::client_context::client_context;
use crate::invoke::outgoing::{outgoing_headers, Route, FORWARDED, TRACE_ID};
use crate::invoke::Identity;
use crate::local_reply::LocalReply;
use crate::metrics::Counter;
use crate::redact::Echoed;
use std::rc::Rc;

/// How the signed call went out.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// The request itself was rewritten: let it continue.
    InPlace,
    /// The filter sent the call itself (this token): the request stays paused until its
    /// answer, in which Lambda's errors may quote the call's secrets (`Echoed`).
    ByCallout(u32, Echoed),
}

/// Envoy's view of the request, for formats that carry it: the peer's address (without its
/// port) and the protocol, from Envoy's attributes; and the caller, when known.
fn event_context(
    function: &FunctionSettings,
    stream: &impl RequestStream,
    request: &ReadyRequest,
    now_ms: u64,
) -> EventContext {
    let text = |path: &[&str]| {
        stream
            .property(path)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    };
    let address = text(&["source", "address"]);
    let source_ip = match address.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        _ => address,
    };
    EventContext {
        account_id: function.account_id.clone(),
        source_ip,
        protocol: text(&["request", "protocol"]),
        now_ms,
        caller: request.caller.clone(),
    }
}

pub fn send_invoke(
    plugin: &Plugin,
    function: &FunctionSettings,
    stream: &impl RequestStream,
    credentials: &Rc<Credentials>,
    request: &ReadyRequest,
    now_ms: u64,
) -> Result<Sent, LocalReply> {
    let (sent, payload_size) = match function.event_format {
        None => send_in_place(plugin, function, stream, credentials, request, now_ms)?,
        Some(format) => send_event(
            plugin,
            function,
            stream,
            credentials,
            request,
            now_ms,
            format,
        )?,
    };
    plugin.metrics.count(Counter::invocations(function.mode));
    plugin.metrics.payload(payload_size);
    Ok(sent)
}

fn internal(e: String) -> LocalReply {
    LocalReply::internal(&e)
}

/// What the call carries of who called: the caller's identity when one is known and the
/// function's mode hands a client context on (synchronous calls), and the tenant id found
/// at the request's headers. Nothing of it comes from the caller's own `x-amz-*` headers.
fn identity<'a>(
    function: &FunctionSettings,
    request: &'a ReadyRequest,
) -> Result<Identity<'a>, LocalReply> {
    let client_context = match &request.caller {
        Some(caller) if function.target.takes_client_context() => {
            Some(client_context(caller).map_err(LocalReply::internal)?)
        }
        _ => None,
    };
    Ok(Identity {
        client_context,
        tenant_id: request.tenant_id.as_deref(),
    })
}

/// The caller's headers the signed call takes: `:authority`, then `FORWARDED`.
const CALLER_HEADERS: [&str; 4] = [":authority", FORWARDED[0], FORWARDED[1], FORWARDED[2]];

/// Passthrough: the body, hashed as it arrived, stays in Envoy's buffer; the request's
/// headers become the signed call's.
fn send_in_place(
    plugin: &Plugin,
    function: &FunctionSettings,
    stream: &impl RequestStream,
    credentials: &Rc<Credentials>,
    request: &ReadyRequest,
    now_ms: u64,
) -> Result<(Sent, usize), LocalReply> {
    let identity = identity(function, request)?;
    let mut signer = plugin.signer.borrow_mut();
    let target = &function.target;
    let signature = if request.body_size == 0 {
        signer.sign(target, &identity, credentials, now_ms / 1000, &[])?
    } else if request.body_hash.hashed() == request.body_size {
        let hash = request.body_hash.hex();
        signer.sign_hashed(target, &identity, credentials, now_ms / 1000, &hash)?
    } else {
        return Err(internal(format!(
            "hashed {} of {} body bytes",
            request.body_hash.hashed(),
            request.body_size
        )));
    };
    drop(signer);
    let ours = function
        .target
        .headers(&signature, credentials.session_token.as_deref(), &identity);
    let [authority, values @ ..] =
        header_pairs::find_each(&request.serialized_headers, CALLER_HEADERS);
    // Without it Envoy would select the signed call's virtual host by an empty host.
    let authority = authority.ok_or_else(|| internal("the request has no :authority".into()))?;
    let mut forwarded: Vec<(&str, &[u8])> = Vec::with_capacity(FORWARDED.len());
    for (name, value) in FORWARDED.into_iter().zip(values) {
        if name == TRACE_ID && !function.forward_trace_id {
            continue;
        }
        if let Some(value) = value {
            forwarded.push((name, value));
        }
    }
    let route = Route {
        authority,
        key: &plugin.route_key,
    };
    let headers = outgoing_headers(&ours, &route, &forwarded, request.body_size)
        .map_err(|e| internal(e.to_owned()))?;
    stream
        .set_request_headers(&headers)
        .map_err(|e| internal(format!("cannot set the request headers: {e}")))?;
    Ok((Sent::InPlace, request.body_size))
}

/// An event format: the body read whole into the event, which the filter sends itself.
fn send_event(
    plugin: &Plugin,
    function: &FunctionSettings,
    stream: &impl RequestStream,
    credentials: &Rc<Credentials>,
    request: &ReadyRequest,
    now_ms: u64,
    format: PayloadFormat,
) -> Result<(Sent, usize), LocalReply> {
    let body = if request.body_size == 0 {
        Vec::new()
    } else {
        stream
            .request_body(0, request.body_size)
            .map_err(|e| internal(format!("cannot read the request body: {e}")))?
    };
    if body.len() != request.body_size {
        return Err(internal(format!(
            "read {} of {} body bytes",
            body.len(),
            request.body_size
        )));
    }
    let body = request.had_body.then_some(body.as_slice());
    let context = if format.needs_context() {
        event_context(function, stream, request, now_ms)
    } else {
        EventContext::default()
    };
    let event = format
        .request_event(
            &request.serialized_headers,
            body,
            &context,
            function.strip_path_prefix.as_deref(),
        )
        .map_err(internal)?;
    // The limit is Lambda's, on what it receives: the event, body encoded.
    let size = u64::try_from(event.len()).unwrap_or(u64::MAX);
    if size > function.max_request_bytes {
        return Err(LocalReply::event_too_large(
            size,
            function.max_request_bytes,
        ));
    }
    let identity = identity(function, request)?;
    let signature = plugin.signer.borrow_mut().sign(
        &function.target,
        &identity,
        credentials,
        now_ms / 1000,
        &event,
    )?;
    let ours = function
        .target
        .headers(&signature, credentials.session_token.as_deref(), &identity);
    let token = callout::invoke(stream, &ours, &event, function.invoke_timeout_ms)?;
    let authorization = ours
        .iter()
        .find(|(name, _)| *name == "authorization")
        .map(|(_, value)| value.as_bytes());
    let echoed = Echoed::of_call(
        authorization,
        credentials.session_token.as_deref().map(str::as_bytes),
    );
    Ok((Sent::ByCallout(token, echoed), event.len()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{function, plugin_with_credentials, NOW_MS};
    use super::*;
    use crate::host::fake::{FakeClock, FakeStreams, StreamState};

    fn signed(body: &[u8], body_size: usize) -> (Result<(), LocalReply>, StreamState) {
        signed_with(
            &[
                (":method", "PUT"),
                (":path", "/x"),
                (":authority", "caller.test"),
            ],
            body,
            body_size,
            "",
        )
    }

    fn signed_with(
        headers: &[(&str, &str)],
        body: &[u8],
        body_size: usize,
        route_key: &str,
    ) -> (Result<(), LocalReply>, StreamState) {
        let mut p = plugin_with_credentials("");
        p.route_key = route_key.to_owned();
        let streams = FakeStreams::new(&FakeClock::at(NOW_MS));
        let mut state = StreamState::request(headers, body);
        if !headers.iter().any(|(n, _)| *n == ":authority") {
            // As no Envoy hands it: without `:authority`.
            let pairs: Vec<(&str, &[u8])> =
                headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
            state.headers = header_pairs::serialize(&pairs).unwrap();
        }
        let mut request = ReadyRequest {
            serialized_headers: state.headers.clone(),
            body_size,
            had_body: true,
            ..ReadyRequest::default()
        };
        let stream = streams.add(1, state);
        // As the flow does while the body arrives (a short body leaves the hash behind).
        let _ = request.body_hash.catch_up(&stream, body_size);
        let credentials = p.identities[0]
            .credentials
            .borrow()
            .credentials
            .clone()
            .unwrap();
        let result =
            send_invoke(&p, &function(&p), &stream, &credentials, &request, NOW_MS).map(|_| ());
        let state = streams.states.borrow_mut().remove(&1).unwrap();
        (result, state)
    }

    #[test]
    fn writes_the_signed_invoke_call() {
        let (result, state) = signed(b"{}", 2);
        assert_eq!(result, Ok(()));
        assert_eq!(state.written(":method").as_deref(), Some("POST"));
        assert!(state
            .written(":path")
            .unwrap()
            .starts_with("/2015-03-31/functions/arn%3Aaws%3Alambda"));
        assert_eq!(
            state.written("x-amz-date").as_deref(),
            Some("20150830T123600Z")
        );
        assert!(state
            .written("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/"));
    }

    /// The signed call is routed again by what it carries: the caller's authority (its own
    /// virtual host, never a Lambda host's) and the filter's route key; the signature is for
    /// the Lambda host, which the route sets on the way out.
    #[test]
    fn keeps_the_callers_authority_and_writes_the_route_key() {
        let headers = [
            (":method", "PUT"),
            (":path", "/x"),
            (":authority", "api.test:80"),
        ];
        let (result, state) = signed_with(&headers, b"{}", 2, "mesh-lambda/authentication");
        assert_eq!(result, Ok(()));
        assert_eq!(state.written(":authority").as_deref(), Some("api.test:80"));
        assert_eq!(
            state.written("x-mesh-lambda-route").as_deref(),
            Some("mesh-lambda/authentication")
        );
        assert!(state
            .written("authorization")
            .unwrap()
            .contains("SignedHeaders=host;"));
    }

    #[test]
    fn a_request_without_authority_writes_nothing() {
        let (result, state) = signed_with(&[(":method", "PUT"), (":path", "/x")], b"{}", 2, "k");
        assert_eq!(
            result.unwrap_err().message,
            "the request has no :authority; nothing was sent to Lambda"
        );
        assert_eq!(state.written_headers, None);
    }

    #[test]
    fn a_short_body_writes_nothing() {
        let (result, state) = signed(b"{}", 5);
        assert_eq!(
            result.unwrap_err().message,
            "hashed 0 of 5 body bytes; nothing was sent to Lambda"
        );
        assert_eq!(state.written_headers, None);
    }
}
