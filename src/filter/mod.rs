//! The proxy-wasm glue: the only code that calls the host. The request path is `http.rs`;
//! credentials are kept current by `credential_agent.rs` from the root context's timer.

mod credential_agent;
mod forward;
mod header_maps;
mod http;
mod plugin;
mod root;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::LambdaRoot::default()));
}}
