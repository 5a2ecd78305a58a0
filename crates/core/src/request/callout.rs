//! The Invoke call for a request that cannot carry it: with an event format, a request that
//! ended at its headers has no body for the event to go in, and a wasm filter cannot add one.
//! The filter sends the signed call itself, through the cluster Envoy's route chose, and
//! answers the request from Lambda's answer, mapped as the response path maps it.

use super::{send_local_reply, Plugin};
use crate::event::response::{error_response, mapped_headers};
use crate::header_pairs;
use crate::host::RequestStream;
use crate::invoke::InvocationMode;
use crate::local_reply::LocalReply;
use crate::response::{is_function_error, FunctionErrors, FUNCTION_ERROR_STATUS};
use crate::stream_log;
use std::time::Duration;

/// Lambda runs a function for 15 minutes at most.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(900);
/// Headers of Lambda's answer that describe its connection, not the answer.
const FRAMING: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Sends the signed call: `ours` are the filter's headers for it, `payload` the event.
pub fn invoke(
    stream: &impl RequestStream,
    ours: &[(&'static str, &str)],
    payload: &[u8],
) -> Result<(), LocalReply> {
    let cluster = stream
        .property(&["xds", "cluster_name"])
        .and_then(|c| String::from_utf8(c).ok())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            LocalReply::internal("cannot tell which cluster reaches Lambda: the route names none")
        })?;
    let length = payload.len().to_string();
    let mut headers: Vec<(&str, &str)> = vec![(":method", "POST")];
    headers.extend(ours.iter().copied());
    headers.push(("content-type", "application/json"));
    headers.push(("content-length", &length));
    stream
        .call_out(&cluster, &headers, payload, INVOKE_TIMEOUT)
        .map(|_token| ())
        .map_err(|e| LocalReply::internal(&format!("cannot call cluster \"{cluster}\": {e}")))
}

/// Answers the request from Lambda's answer (its headers serialized, and body), or with the
/// filter's error when none came.
pub fn answer(
    plugin: &Plugin,
    stream: &impl RequestStream,
    context_id: u32,
    answer: Option<(&[u8], &[u8])>,
) {
    let Some((headers, body)) = answer else {
        let reply = LocalReply::lambda_unreachable();
        return send_local_reply(context_id, stream, &reply);
    };
    let (headers, body) = respond(plugin, headers, body).unwrap_or_else(|reply| {
        stream_log!(warn, context_id, "{}: {}", reply.code, reply.message);
        error_response(&reply)
    });
    let Some(pairs) = header_pairs::parse(&headers) else {
        return send_local_reply(
            context_id,
            stream,
            &LocalReply::internal("Lambda's answer headers came back malformed"),
        );
    };
    let status = pairs
        .iter()
        .find(|(n, _)| *n == ":status")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
        .unwrap_or(FUNCTION_ERROR_STATUS);
    let kept: Vec<(&str, &[u8])> = pairs
        .into_iter()
        .filter(|(n, _)| !n.starts_with(':') && !FRAMING.contains(n))
        .collect();
    if let Err(e) = stream.send_response(status, &kept, &body) {
        stream_log!(error, context_id, "cannot send the response: {e}");
    }
}

/// The response for Lambda's answer (headers serialized with `:status`, and body), as the
/// response path gives it: Lambda's errors as they are, a function error per
/// `function_error`, a result mapped.
fn respond(plugin: &Plugin, headers: &[u8], body: &[u8]) -> Result<(Vec<u8>, Vec<u8>), LocalReply> {
    let malformed = || LocalReply::internal("Lambda's answer headers came back malformed");
    let status = header_pairs::find(headers, ":status")
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
        .ok_or_else(malformed)?;
    let failed = is_function_error(header_pairs::find(headers, "x-amz-function-error"));
    let as_is = status >= 300 || plugin.mode != InvocationMode::Synchronous;
    if as_is || (failed && plugin.function_error == FunctionErrors::Passthrough) {
        return Ok((headers.to_vec(), body.to_vec()));
    }
    if failed {
        let pairs = header_pairs::parse(headers).ok_or_else(malformed)?;
        let bad_gateway = FUNCTION_ERROR_STATUS.to_string();
        let mut rewritten: Vec<(&str, &[u8])> = vec![(":status", bad_gateway.as_bytes())];
        rewritten.extend(pairs.into_iter().filter(|(n, _)| *n != ":status"));
        let headers = header_pairs::serialize(&rewritten).ok_or_else(malformed)?;
        return Ok((headers, body.to_vec()));
    }
    let format = plugin.event_format.unwrap_or_default();
    let result = format
        .function_result(body)
        .map_err(|e| LocalReply::malformed_result(&e.0))?;
    let mapped = mapped_headers(headers, &result).ok_or_else(malformed)?;
    Ok((mapped, result.body))
}
