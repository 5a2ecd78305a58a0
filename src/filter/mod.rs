//! The proxy-wasm glue: the only code that calls the host. Request path: `http.rs`.

mod http;
mod root;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(root::LambdaRoot::default()));
}}
