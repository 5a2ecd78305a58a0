//! The HTTP context: each callback hands the stream to the core's request flow.

use crate::host::{stream_callout_answer, Envoy};
use mesh_lambda_core::request::flow::RequestFlow;
use mesh_lambda_core::request::{Action as CoreAction, Plugin};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;
use std::rc::Rc;

pub struct LambdaHttp {
    plugin: Rc<Plugin>,
    flow: RequestFlow,
}

impl LambdaHttp {
    pub fn new(context_id: u32, plugin: Rc<Plugin>) -> Self {
        Self {
            plugin,
            flow: RequestFlow::new(context_id),
        }
    }
}

fn action(a: CoreAction) -> Action {
    match a {
        CoreAction::Continue => Action::Continue,
        CoreAction::Pause => Action::Pause,
    }
}

/// The stream ended (`proxy_on_delete`): a request still waiting for credentials is forgotten.
impl Drop for LambdaHttp {
    fn drop(&mut self) {
        self.flow.on_done(&self.plugin);
    }
}

/// The answer to the Invoke call the filter sent itself (a request without a body, with an
/// event format).
impl Context for LambdaHttp {
    fn on_http_call_response(
        &mut self,
        _token: u32,
        num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        let answer = stream_callout_answer(num_headers, body_size);
        let answer = answer.as_ref().map(|(h, b)| (h.as_slice(), b.as_slice()));
        self.flow.on_callout_answer(&self.plugin, &Envoy, answer);
    }
}

impl HttpContext for LambdaHttp {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        #[cfg(feature = "test-crash")]
        crash_if_asked();
        action(
            self.flow
                .on_request_headers(&self.plugin, &Envoy, end_of_stream),
        )
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(
            self.flow
                .on_request_body(&self.plugin, &Envoy, body_size, end_of_stream),
        )
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        action(self.flow.on_request_trailers(&self.plugin, &Envoy))
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        action(self.flow.on_response_headers(&self.plugin, &Envoy))
    }

    /// PLACEHOLDER for streamed responses (issue 13): that branch replaces it at merge. It is
    /// here only so that this branch's benchmark pays the VM entry per response body chunk
    /// that the merged filter will pay.
    fn on_http_response_body(&mut self, _body_size: usize, _end_of_stream: bool) -> Action {
        Action::Continue
    }
}

/// The `test-crash` build: a request with this header panics the VM (a runtime crash).
#[cfg(feature = "test-crash")]
#[allow(clippy::panic)]
fn crash_if_asked() {
    use proxy_wasm::hostcalls::get_map_value;
    use proxy_wasm::types::MapType;
    if let Ok(Some(_)) = get_map_value(MapType::HttpRequestHeaders, "x-mesh-lambda-test-crash") {
        panic!("test-crash: crashing the VM as the request asked");
    }
}
