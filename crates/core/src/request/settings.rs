//! The settings of one function, as its requests are handled: fixed when the VM is
//! configured, read by every request, never written. Kept apart from the VM's state
//! (`Plugin`), which holds them all (`select::Functions`); what is the VM's
//! (`detailed_errors`, the identities' credentials) is on `Plugin`, and a function names its
//! identity.

use super::identity::Identity;
use crate::caller::allowed::AllowedCaller;
use crate::config::{FilterConfig, TenantIdSource};
use crate::event::PayloadFormat;
use crate::invocation_mode::InvocationMode;
use crate::invoke::InvokeTarget;
use crate::response::FunctionErrors;
use std::rc::Rc;

/// One function's settings: what its calls are signed for, and how its requests are handled.
pub struct FunctionSettings {
    pub target: InvokeTarget,
    pub mode: InvocationMode,
    /// The event the request is wrapped in; `None`: the body is the payload.
    pub event_format: Option<PayloadFormat>,
    pub function_error: FunctionErrors,
    /// The function's account (events carry it).
    pub account_id: String,
    pub max_request_bytes: u64,
    /// How long the filter's own Invoke call (event formats) may take.
    pub invoke_timeout_ms: u64,
    /// Passthrough sends the caller's `x-amzn-trace-id` on.
    pub forward_trace_id: bool,
    /// Event formats: left out of the path the event carries.
    pub strip_path_prefix: Option<String>,
    /// Where a tenant-isolated function's tenant id comes from.
    pub tenant_id: Option<TenantIdSource>,
    /// The mesh callers allowed to invoke the function; `None`: any caller.
    pub callers: Option<Vec<AllowedCaller>>,
    /// Whose credentials sign its calls (shared with the functions of equal `credentials`).
    pub identity: Rc<Identity>,
}

impl FunctionSettings {
    pub fn new(config: &FilterConfig, identity: Rc<Identity>) -> Self {
        Self {
            target: InvokeTarget::new(config),
            mode: config.invocation_mode,
            event_format: config.event_format(),
            function_error: config.function_error,
            account_id: config.arn.account.clone(),
            max_request_bytes: config.max_request_bytes,
            invoke_timeout_ms: config.invoke_timeout_ms,
            forward_trace_id: config.forward_trace_id,
            strip_path_prefix: config.strip_path_prefix.clone(),
            tenant_id: config.tenant_id.clone(),
            callers: config.callers.clone(),
            identity,
        }
    }
}
