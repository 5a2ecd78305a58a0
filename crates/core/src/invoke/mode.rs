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
}

impl InvocationMode {
    pub const ALL: [InvocationMode; 3] = [
        InvocationMode::Synchronous,
        InvocationMode::Asynchronous,
        InvocationMode::DryRun,
    ];

    /// The name in the configuration (also accepted in upper case, as Envoy's filter spells it).
    pub fn name(self) -> &'static str {
        match self {
            InvocationMode::Synchronous => "synchronous",
            InvocationMode::Asynchronous => "asynchronous",
            InvocationMode::DryRun => "dry_run",
        }
    }

    /// The mode named `name`, in lower or upper case.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "synchronous" | "SYNCHRONOUS" => Some(Self::Synchronous),
            "asynchronous" | "ASYNCHRONOUS" => Some(Self::Asynchronous),
            "dry_run" | "DRY_RUN" => Some(Self::DryRun),
            _ => None,
        }
    }

    /// The `X-Amz-Invocation-Type` value Lambda expects.
    pub fn invocation_type(self) -> &'static str {
        match self {
            InvocationMode::Synchronous => "RequestResponse",
            InvocationMode::Asynchronous => "Event",
            InvocationMode::DryRun => "DryRun",
        }
    }

    /// The largest request payload Lambda takes in this mode (a dry run is checked as a
    /// synchronous call).
    pub fn payload_limit(self) -> u64 {
        match self {
            InvocationMode::Asynchronous => ASYNC_PAYLOAD_LIMIT,
            InvocationMode::Synchronous | InvocationMode::DryRun => SYNC_PAYLOAD_LIMIT,
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
    }
}
