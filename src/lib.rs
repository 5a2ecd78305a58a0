//! mesh-lambda, the filter: the proxy-wasm glue over `mesh_lambda_core`. The only crate that
//! calls the host (and the only one with `unsafe`); built for wasm32-wasip1, empty elsewhere.
//!
//! `root.rs` configures the VM and runs the credential agent; `http.rs` hands each stream to
//! the core's request flow; `host.rs` and `raw_abi.rs` implement the core's host traits.
//! The callbacks implemented here are listed in `exports.txt`, which the build keeps exported.

#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod http;
#[cfg(target_arch = "wasm32")]
mod raw_abi;
#[cfg(target_arch = "wasm32")]
mod root;

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    // A panic aborts the VM (panic = "abort"); say where, at critical, before it goes.
    std::panic::set_hook(Box::new(|info| {
        let message = format!("panic: {info}");
        let _ = proxy_wasm::hostcalls::log(proxy_wasm::types::LogLevel::Critical, &message);
    }));
    proxy_wasm::set_root_context(|_| Box::new(root::LambdaRoot::default()));
}}
