//! What the caller gets back from Lambda's answer.

use crate::invoke::InvocationMode;

/// Status for a synchronous invocation whose function failed: Lambda answers 200 with
/// `X-Amz-Function-Error`; the caller sees a gateway error, with the function's error body.
pub const FUNCTION_ERROR_STATUS: u32 = 502;

/// The status to give the caller instead of Lambda's, if any. Lambda API errors (4xx/5xx with
/// `x-amzn-errortype`), 202 for `Event` and 204 for `DryRun` pass through as they are.
pub fn rewritten_status(mode: InvocationMode, function_error: Option<&[u8]>) -> Option<u32> {
    match (mode, function_error) {
        (InvocationMode::Synchronous, Some(kind)) if !kind.trim_ascii().is_empty() => {
            Some(FUNCTION_ERROR_STATUS)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_errors_become_502_when_synchronous() {
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b"Unhandled"[..])),
            Some(502)
        );
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b"Handled"[..])),
            Some(502)
        );
        assert_eq!(rewritten_status(InvocationMode::Synchronous, None), None);
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b" "[..])),
            None
        );
        assert_eq!(
            rewritten_status(InvocationMode::Synchronous, Some(&b"Unhandled\xff"[..])),
            Some(502)
        );
        assert_eq!(
            rewritten_status(InvocationMode::Asynchronous, Some(&b"Unhandled"[..])),
            None
        );
    }
}
