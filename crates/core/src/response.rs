//! What the caller gets back from Lambda's answer.

use crate::invocation_mode::InvocationMode;

/// Status for a synchronous invocation whose function failed: Lambda answers 200 with
/// `X-Amz-Function-Error`; the caller sees a gateway error, with the function's error body.
pub const FUNCTION_ERROR_STATUS: u32 = 502;

/// What the caller gets when the function failed (`function_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FunctionErrors {
    /// 502, with the function's error JSON and `x-amz-function-error`.
    #[default]
    BadGateway,
    /// Lambda's 200 with the error JSON, as the native filter passes it on.
    Passthrough,
}

impl FunctionErrors {
    pub const ALL: [FunctionErrors; 2] = [FunctionErrors::BadGateway, FunctionErrors::Passthrough];

    pub fn name(self) -> &'static str {
        match self {
            FunctionErrors::BadGateway => "bad_gateway",
            FunctionErrors::Passthrough => "passthrough",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

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
