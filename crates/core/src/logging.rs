//! Log lines of the filter. Envoy starts every line a Wasm plugin logs with the plugin's
//! identifiers (`wasm log <name> <root_id> <vm_id>: `; a VM's own lines without the name), so a
//! VM's lines add nothing before the message, and one stream's lines add only the stream's
//! marker, `context <context id>: `, by which an operator follows one request.

/// A log line about one stream: `stream_log!(info, context_id, "format", args...)`.
#[macro_export]
macro_rules! stream_log {
    ($level:ident, $context_id:expr, $($arg:tt)+) => {
        ::log::$level!("context {}: {}", $context_id, ::core::format_args!($($arg)+))
    };
}

/// A log line of the VM (configuration, credentials): `vm_log!(warn, "format", args...)`.
/// No prefix of its own: Envoy's names the plugin.
#[macro_export]
macro_rules! vm_log {
    ($level:ident, $($arg:tt)+) => {
        ::log::$level!($($arg)+)
    };
}
