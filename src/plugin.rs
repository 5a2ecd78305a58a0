//! What the root context and the HTTP contexts of one VM share.

use mesh_lambda_core::credentials::shared::SharedRecord;
use mesh_lambda_core::invoke::InvocationMode;
use mesh_lambda_core::invoke::{InvokeTarget, SigningCache};
use std::cell::RefCell;

pub struct Plugin {
    pub target: InvokeTarget,
    pub mode: InvocationMode,
    pub max_request_bytes: u64,
    pub max_wait_ms: u64,
    /// The names of the configured credential providers, for error messages.
    pub provider_names: String,
    /// This VM's copy of the shared credential state.
    pub credentials: RefCell<SharedRecord>,
    pub signer: RefCell<SigningCache>,
    /// Requests paused until credentials arrive.
    pub waiting: RefCell<Vec<WaitingRequest>>,
}

/// A request whose body is buffered, ready to be signed and sent.
#[derive(Debug, Clone, Default)]
pub struct ReadyRequest {
    /// The caller's headers as the host serialized them (`header_pairs` reads them), read
    /// once; they are written back rewritten, in one call.
    pub serialized_headers: Vec<u8>,
    pub body_size: usize,
}

pub struct WaitingRequest {
    pub context_id: u32,
    pub deadline_ms: u64,
    pub request: ReadyRequest,
}
