//! How Lambda is asked to run the function, and what it accepts in each mode: facts of the
//! Invoke API, which the configuration only chooses among.

/// Lambda's request payload limit for synchronous invocations.
pub const SYNC_PAYLOAD_LIMIT: u64 = 6 * 1024 * 1024;
/// Lambda's request payload limit for asynchronous (`Event`) invocations.
pub const ASYNC_PAYLOAD_LIMIT: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvocationMode {
    #[default]
    Synchronous,
    Asynchronous,
    DryRun,
    /// `InvokeWithResponseStream`: the answer is an event stream the filter re-emits to the
    /// caller as it arrives.
    Streaming,
}

impl InvocationMode {
    pub const ALL: [InvocationMode; 4] = [
        InvocationMode::Synchronous,
        InvocationMode::Asynchronous,
        InvocationMode::DryRun,
        InvocationMode::Streaming,
    ];

    /// The name in the configuration (also accepted in upper case, as Envoy's filter spells it).
    pub fn name(self) -> &'static str {
        match self {
            InvocationMode::Synchronous => "synchronous",
            InvocationMode::Asynchronous => "asynchronous",
            InvocationMode::DryRun => "dry_run",
            InvocationMode::Streaming => "streaming",
        }
    }

    /// The mode named `name`, in lower or upper case.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "synchronous" | "SYNCHRONOUS" => Some(Self::Synchronous),
            "asynchronous" | "ASYNCHRONOUS" => Some(Self::Asynchronous),
            "dry_run" | "DRY_RUN" => Some(Self::DryRun),
            "streaming" | "STREAMING" => Some(Self::Streaming),
            _ => None,
        }
    }

    /// The `X-Amz-Invocation-Type` value Lambda expects (a streamed invocation is a
    /// `RequestResponse` one on the streaming path).
    pub fn invocation_type(self) -> &'static str {
        match self {
            InvocationMode::Synchronous | InvocationMode::Streaming => "RequestResponse",
            InvocationMode::Asynchronous => "Event",
            InvocationMode::DryRun => "DryRun",
        }
    }

    /// The largest request payload Lambda takes in this mode (a dry run is checked as a
    /// synchronous call, and so is a streamed one: only its answer may be larger).
    pub fn payload_limit(self) -> u64 {
        match self {
            InvocationMode::Asynchronous => ASYNC_PAYLOAD_LIMIT,
            InvocationMode::Synchronous | InvocationMode::DryRun | InvocationMode::Streaming => {
                SYNC_PAYLOAD_LIMIT
            }
        }
    }

    /// The Invoke API's path for the function (its ARN URI-encoded): streamed invocations
    /// have their own operation.
    pub fn path(self, encoded_function: &str) -> String {
        match self {
            InvocationMode::Streaming => {
                format!("/2021-11-15/functions/{encoded_function}/response-streaming-invocations")
            }
            _ => format!("/2015-03-31/functions/{encoded_function}/invocations"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_either_case() {
        for mode in InvocationMode::ALL {
            assert_eq!(InvocationMode::parse(mode.name()), Some(mode));
            assert_eq!(
                InvocationMode::parse(&mode.name().to_ascii_uppercase()),
                Some(mode)
            );
        }
        for other in [
            "",
            "Synchronous",
            "sync",
            "event",
            "dry-run",
            " synchronous",
        ] {
            assert_eq!(InvocationMode::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn payload_limit_per_mode() {
        assert_eq!(InvocationMode::default(), InvocationMode::Synchronous);
        assert_eq!(InvocationMode::Synchronous.payload_limit(), 6 * 1024 * 1024);
        assert_eq!(InvocationMode::DryRun.payload_limit(), 6 * 1024 * 1024);
        assert_eq!(InvocationMode::Asynchronous.payload_limit(), 1024 * 1024);
        assert_eq!(InvocationMode::Streaming.payload_limit(), 6 * 1024 * 1024);
    }

    #[test]
    fn streaming_is_a_request_response_call_on_its_own_path() {
        assert_eq!(
            InvocationMode::Streaming.invocation_type(),
            "RequestResponse"
        );
        assert_eq!(
            InvocationMode::Streaming.path("f"),
            "/2021-11-15/functions/f/response-streaming-invocations"
        );
        for mode in [
            InvocationMode::Synchronous,
            InvocationMode::Asynchronous,
            InvocationMode::DryRun,
        ] {
            assert_eq!(mode.path("f"), "/2015-03-31/functions/f/invocations");
        }
    }
}
