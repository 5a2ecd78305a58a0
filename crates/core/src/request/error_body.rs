//! Lambda's error answers in passthrough go through Envoy to the caller, and a signature
//! error's body quotes the canonical request (`InvalidSignatureException`: the
//! `x-amz-security-token` header, and so the session token, in it). The body of an error
//! answer is held until complete, the signed call's secrets (`redact::Echoed`, read from the
//! request's headers as signed) cut out, then sent on. Its `content-length` is dropped at the
//! headers, since the body's length changes. A body over `ERROR_BODY_LIMIT` is withheld: no
//! error of Lambda's is that long, and holding more would be memory a caller could make the
//! VM spend. Successful answers never come here.

use super::Action;
use crate::header_pairs;
use crate::host::RequestStream;
use crate::redact::Echoed;
use crate::stream_log;

/// The longest error body held and passed on.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// One error answer's body on its way to the caller.
pub struct ErrorBody {
    echoed: Echoed,
    withheld: bool,
}

impl ErrorBody {
    /// Lambda answered an error (`headers`, serialized): the body is to be held when the call
    /// had secrets and there is a body, and then the headers lose their `content-length`.
    pub fn start(
        context_id: u32,
        stream: &impl RequestStream,
        headers: &[u8],
        end_of_stream: bool,
    ) -> Option<Self> {
        if end_of_stream {
            return None;
        }
        // The request's header map as signed (Envoy's attribute: the map is no longer the
        // filter's to read once its headers went on).
        let signed = stream.property(&["request", "headers"]).unwrap_or_default();
        let echoed = Echoed::of_headers(&signed);
        if echoed.is_empty() {
            return None;
        }
        let kept: Option<Vec<(&str, &[u8])>> = header_pairs::parse(headers).map(|pairs| {
            pairs
                .into_iter()
                .filter(|(name, _)| *name != "content-length")
                .collect()
        });
        let written = kept
            .and_then(|pairs| header_pairs::serialize(&pairs))
            .ok_or_else(|| "the header map is malformed".to_owned())
            .and_then(|serialized| {
                stream
                    .set_response_headers(&serialized)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            stream_log!(
                error,
                context_id,
                "cannot drop the error's content-length: {e}"
            );
            return None;
        }
        Some(Self {
            echoed,
            withheld: false,
        })
    }

    /// A part of the error's body (`body_size` bytes held so far): held until the end, then
    /// passed on without the call's secrets.
    pub fn on_body(
        &mut self,
        context_id: u32,
        stream: &impl RequestStream,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if !self.withheld && body_size > ERROR_BODY_LIMIT {
            self.withheld = true;
            stream_log!(
                warn,
                context_id,
                "Lambda's error body is over {ERROR_BODY_LIMIT} bytes: not passed on"
            );
        }
        if self.withheld {
            if let Err(e) = stream.replace_response_body(body_size, b"") {
                stream_log!(error, context_id, "cannot drop the error's body: {e}");
            }
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let redacted = stream
            .response_body(0, body_size)
            .map(|body| self.echoed.redact(&body))
            .and_then(|body| stream.replace_response_body(body_size, &body));
        if let Err(e) = redacted {
            stream_log!(error, context_id, "cannot redact the error's body: {e}");
            if let Err(e) = stream.replace_response_body(body_size, b"") {
                stream_log!(error, context_id, "cannot drop the error's body: {e}");
            }
        }
        Action::Continue
    }
}
