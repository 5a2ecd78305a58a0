//! What the caller gets back from Lambda's answer, decided here and nowhere else. A forwarded
//! request (passthrough): which of Lambda's answers the filter touches (its errors are
//! counted and their bodies redacted, a streamed 200 is translated, a function error's status
//! set per `function_error`); everything else passes as it is. The filter's own Invoke call
//! (event formats): the whole response, status, headers and body, from Lambda's answer.
//! The host calls, counters and logs that carry these decisions out are the callers'
//! (`flow`, `callout`).

use super::settings::FunctionSettings;
use crate::event::response::mapped_headers;
use crate::event::result::FRAMING_HEADERS;
use crate::event::RESULT_LIMIT_BYTES;
use crate::header_pairs;
use crate::invocation_mode::InvocationMode;
use crate::local_reply::LocalReply;
use crate::metrics::{Counter, Metrics};
use crate::redact::Echoed;
use crate::response::FunctionErrors;

/// Status for a synchronous invocation whose function failed: Lambda answers 200 with
/// `X-Amz-Function-Error`; the caller sees a gateway error, with the function's error body.
pub const FUNCTION_ERROR_STATUS: u32 = 502;

/// Whether Lambda's answer says the function failed (`X-Amz-Function-Error`, not blank).
pub fn is_function_error(function_error: Option<&[u8]>) -> bool {
    function_error.is_some_and(|kind| !kind.trim_ascii().is_empty())
}

/// The status to give the caller instead of Lambda's, if any. Lambda API errors (4xx/5xx with
/// `x-amzn-errortype`), 202 for `Event` and 204 for `DryRun` pass through as they are.
pub fn rewritten_status(
    mode: InvocationMode,
    function_error: Option<&[u8]>,
    policy: FunctionErrors,
) -> Option<u32> {
    let failed = mode == InvocationMode::Synchronous && is_function_error(function_error);
    (failed && policy == FunctionErrors::BadGateway).then_some(FUNCTION_ERROR_STATUS)
}

/// What becomes of Lambda's answer to a forwarded request, read from its status and
/// `x-amz-function-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarded {
    /// Lambda's own error (or Envoy's on the way), counted by `Counter`: it reaches the caller
    /// as it is but for the signed call's secrets (`error_body`).
    LambdaError(Counter),
    /// A streamed answer's 200: translated as it arrives (`streamed`).
    Streamed,
    /// A synchronous answer: whether the function failed, and the status the caller gets
    /// instead of Lambda's.
    Synchronous {
        function_failed: bool,
        status: Option<u32>,
    },
    /// Passed on untouched (an asynchronous or dry-run answer, a streamed one that is not 200).
    AsIs,
}

/// The rule for Lambda's answer (`status`, `function_error`) to a forwarded request.
pub fn forwarded(
    function: &FunctionSettings,
    status: Option<u32>,
    function_error: Option<&[u8]>,
) -> Forwarded {
    if let Some(error) = status.and_then(Counter::lambda_error) {
        return Forwarded::LambdaError(error);
    }
    match function.mode {
        InvocationMode::Streaming if status == Some(200) => Forwarded::Streamed,
        InvocationMode::Synchronous => Forwarded::Synchronous {
            function_failed: is_function_error(function_error),
            status: rewritten_status(function.mode, function_error, function.function_error),
        },
        _ => Forwarded::AsIs,
    }
}

/// Whether an answer with this status and headers came from Envoy itself (it could not
/// connect, the connection was reset, a timeout: its plain-text 5xx) rather than from Lambda,
/// whose answers, its errors too, carry `x-amzn-RequestId` and its errors `x-amzn-ErrorType`.
fn answered_by_the_proxy(status: u32, headers: &[u8]) -> bool {
    (500..=599).contains(&status)
        && header_pairs::find(headers, "x-amzn-requestid").is_none()
        && header_pairs::find(headers, "x-amzn-errortype").is_none()
}

/// The response for Lambda's answer to the filter's own Invoke call (headers serialized with
/// `:status`, and body): Lambda's errors as they are but for the call's secrets (`echoed`), a
/// function error per `function_error`, a result mapped; or the filter's reply in its place.
/// Lambda's errors and function errors are counted in `metrics`.
pub fn invoke_answer(
    function: &FunctionSettings,
    metrics: &Metrics,
    headers: &[u8],
    body: &[u8],
    echoed: &Echoed,
) -> Result<(Vec<u8>, Vec<u8>), LocalReply> {
    let malformed = || LocalReply::internal("Lambda's answer headers came back malformed");
    let status = header_pairs::find(headers, ":status")
        .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
        .ok_or_else(malformed)?;
    if answered_by_the_proxy(status, headers) {
        // Envoy answers a call that ran out of `invoke_timeout_ms` with its own 504.
        return Err(if status == 504 {
            LocalReply::lambda_timeout(function.invoke_timeout_ms, body)
        } else {
            LocalReply::lambda_unreachable_answered(status, body)
        });
    }
    let failed = is_function_error(header_pairs::find(headers, "x-amz-function-error"));
    if let Some(error) = Counter::lambda_error(status) {
        metrics.count(error);
    } else if failed {
        metrics.count(Counter::FunctionErrors);
    }
    if status >= 400 {
        // Lambda's error: a signature error quotes the canonical request, token included.
        return Ok((headers.to_vec(), echoed.redact(body)));
    }
    let as_is = status >= 300 || function.mode != InvocationMode::Synchronous;
    if as_is || (failed && function.function_error == FunctionErrors::Passthrough) {
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
    if body.len() > RESULT_LIMIT_BYTES {
        return Err(LocalReply::malformed_result(&format!(
            "the function's result of {} bytes exceeds Lambda's limit of {RESULT_LIMIT_BYTES}",
            body.len()
        )));
    }
    let format = function.event_format.unwrap_or_default();
    let result = format
        .function_result(body)
        .map_err(|e| LocalReply::malformed_result(&e.0))?;
    let mapped = mapped_headers(headers, &result).ok_or_else(malformed)?;
    Ok((mapped, result.body))
}

/// A response as the caller gets it: its status, its headers without pseudo-headers and
/// without framing (`FRAMING_HEADERS`: the proxy frames the answer), and its body.
pub struct CallerResponse<'a> {
    pub status: u32,
    pub headers: Vec<(&'a str, &'a [u8])>,
    pub body: &'a [u8],
}

impl<'a> CallerResponse<'a> {
    /// From a response's headers (serialized, with `:status`) and body; `None` when the map
    /// is malformed.
    pub fn of(headers: &'a [u8], body: &'a [u8]) -> Option<Self> {
        let pairs = header_pairs::parse(headers)?;
        let status = pairs
            .iter()
            .find(|(n, _)| *n == ":status")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u32>().ok())
            .unwrap_or(FUNCTION_ERROR_STATUS);
        let headers = pairs
            .into_iter()
            .filter(|(n, _)| !n.starts_with(':') && !FRAMING_HEADERS.contains(n))
            .collect();
        // RFC 9110 sections 15.3.5 and 15.4.5: a 204 or 304 ends at its header section. Envoy
        // writes a local response's body whatever its status, and the caller would read it
        // as its next response.
        let body = if status == 204 || status == 304 {
            &[][..]
        } else {
            body
        };
        Some(Self {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: FunctionErrors = FunctionErrors::BadGateway;

    #[test]
    fn passthrough_keeps_lambdas_200() {
        assert_eq!(
            rewritten_status(
                InvocationMode::Synchronous,
                Some(&b"Unhandled"[..]),
                FunctionErrors::Passthrough
            ),
            None
        );
    }

    #[test]
    fn function_errors_become_502_when_synchronous() {
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b"Unhandled"[..]), B),
            Some(502)
        );
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b"Handled"[..]), B),
            Some(502)
        );
        assert_eq!(rewritten_status(InvocationMode::Synchronous, None, B), None);
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b" "[..]), B),
            None
        );
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b"Unhandled\xff"[..]), B),
            Some(502)
        );
        assert_eq!(
            rewritten_status(InvocationMode::Asynchronous, Some(&b"Unhandled"[..]), B),
            None
        );
    }
}
