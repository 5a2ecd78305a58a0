//! mesh-lambda, the filter: the proxy-wasm glue over `mesh_lambda_core`. The only crate that
//! calls the host (and the only one with `unsafe`); built for wasm32-wasip1, empty elsewhere.

#[cfg(target_arch = "wasm32")]
mod credential_agent;
#[cfg(target_arch = "wasm32")]
mod forward;
#[cfg(target_arch = "wasm32")]
mod header_maps;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod plugin;
#[cfg(target_arch = "wasm32")]
mod root;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::LambdaRoot::default()));
}}
