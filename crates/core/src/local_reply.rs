//! The filter's own answers to the caller: JSON `{"error": <code>, "message": <text>}`.

/// A reply the filter gives instead of invoking the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub code: &'static str,
    pub message: String,
}

impl LocalReply {
    pub fn too_large(size: u64, limit: u64) -> Self {
        Self {
            status: 413,
            code: "RequestTooLarge",
            message: format!(
                "request body of {size} bytes exceeds max_request_bytes ({limit}); nothing was sent to Lambda"
            ),
        }
    }

    /// The event (the body encoded) is over the limit although the body was not.
    pub fn event_too_large(size: u64, limit: u64) -> Self {
        Self {
            status: 413,
            code: "RequestTooLarge",
            message: format!(
                "the request's event of {size} bytes (its body encoded) exceeds \
                 max_request_bytes ({limit}); nothing was sent to Lambda"
            ),
        }
    }

    /// A function result that cannot be turned into a response (sent in its place).
    pub fn malformed_result(reason: &str) -> Self {
        Self {
            status: 502,
            code: "MalformedFunctionResult",
            message: reason.to_owned(),
        }
    }

    pub fn lambda_unreachable() -> Self {
        Self {
            status: 503,
            code: "LambdaUnreachable",
            message: "no answer from Lambda (timeout or connection failure)".into(),
        }
    }

    /// The filter's own Invoke call (event formats) got no answer within `invoke_timeout_ms`:
    /// Envoy answered it 504 with `text`.
    pub fn lambda_timeout(timeout_ms: u64, text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text.get(..200).unwrap_or(text));
        Self {
            status: 504,
            code: "LambdaTimeout",
            message: format!(
                "Lambda did not answer within invoke_timeout_ms ({timeout_ms} ms): {text}"
            ),
        }
    }

    /// The call was answered by Envoy (or a proxy on the way), not by Lambda: `status` and
    /// the start of its text.
    pub fn lambda_unreachable_answered(status: u32, text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text.get(..200).unwrap_or(text));
        Self {
            status: 503,
            code: "LambdaUnreachable",
            message: format!("no answer from Lambda: the proxy answered the call {status}: {text}"),
        }
    }

    pub fn credentials_unavailable(reason: &str) -> Self {
        Self {
            status: 503,
            code: "CredentialsUnavailable",
            message: format!("{reason}; nothing was sent to Lambda"),
        }
    }

    pub fn credentials_timeout(waited_ms: u64, providers: &str) -> Self {
        Self {
            status: 503,
            code: "CredentialsUnavailable",
            message: format!(
                "no AWS credentials after waiting {waited_ms} ms for the providers ({providers}); \
                 nothing was sent to Lambda"
            ),
        }
    }

    pub fn body_not_delivered() -> Self {
        Self {
            status: 500,
            code: "BodyNotDelivered",
            message: "Envoy received the request body but did not hand it to the filter: it \
                      holds bodies back unless the wasm filter's config sets \
                      allow_on_headers_stop_iteration: true (Envoy 1.35 or later); nothing was \
                      sent to Lambda"
                .into(),
        }
    }

    pub fn internal(reason: &str) -> Self {
        Self {
            status: 500,
            code: "InternalError",
            message: format!("{reason}; nothing was sent to Lambda"),
        }
    }

    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.code, "message": self.message }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_json_with_code_and_message() {
        let r = LocalReply::credentials_unavailable("no \"AWS\" keys");
        let v: serde_json::Value = serde_json::from_str(&r.body()).unwrap();
        assert_eq!(v["error"], "CredentialsUnavailable");
        assert_eq!(v["message"], "no \"AWS\" keys; nothing was sent to Lambda");
        assert_eq!(LocalReply::too_large(10, 5).status, 413);
    }
}
