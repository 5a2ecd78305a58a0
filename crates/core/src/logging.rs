//! Log lines of the filter: every line starts `mesh-lambda: ` (the VM's own) or
//! `mesh-lambda[<context id>]: ` (one stream's), so an operator can follow one request.

/// A log line about one stream: `stream_log!(info, context_id, "format", args...)`.
#[macro_export]
macro_rules! stream_log {
    ($level:ident, $context_id:expr, $($arg:tt)+) => {
        ::log::$level!("mesh-lambda[{}]: {}", $context_id, ::core::format_args!($($arg)+))
    };
}

/// A log line of the VM (configuration, credentials): `vm_log!(warn, "format", args...)`.
#[macro_export]
macro_rules! vm_log {
    ($level:ident, $($arg:tt)+) => {
        ::log::$level!("mesh-lambda: {}", ::core::format_args!($($arg)+))
    };
}
