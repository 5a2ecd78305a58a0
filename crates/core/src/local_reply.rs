//! The filter's own answers to the caller: JSON `{"error": <code>, "message": <text>}`.
//!
//! The message a caller reads is the reply's `summary`, fixed text that names nothing
//! outside the filter: the full reason (role ARNs, accounts, cluster names, STS's and the
//! metadata endpoints' words) goes to the log with the stream's context id, and to the caller
//! only with `detailed_errors: true`.

use std::fmt;

/// What kind of reply: the `error` field of its JSON, which callers and logs read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyCode {
    /// The body (or the event made of it) is over `max_request_bytes`.
    RequestTooLarge,
    /// The function's result cannot be turned into a response.
    MalformedFunctionResult,
    /// The filter's own Invoke call got no answer from Lambda.
    LambdaUnreachable,
    /// The filter's own Invoke call ran out of `invoke_timeout_ms`.
    LambdaTimeout,
    /// No credentials to sign with.
    CredentialsUnavailable,
    /// Envoy holds request bodies back.
    BodyNotDelivered,
    /// The function is tenant-isolated and the request has no usable tenant id.
    TenantIdMissing,
    /// The filter could not make the call.
    InternalError,
    /// The function lists its callers, and this request's is not one of them (or is not known).
    CallerNotAllowed,
}

impl ReplyCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RequestTooLarge => "RequestTooLarge",
            Self::MalformedFunctionResult => "MalformedFunctionResult",
            Self::LambdaUnreachable => "LambdaUnreachable",
            Self::LambdaTimeout => "LambdaTimeout",
            Self::CredentialsUnavailable => "CredentialsUnavailable",
            Self::BodyNotDelivered => "BodyNotDelivered",
            Self::TenantIdMissing => "TenantIdMissing",
            Self::InternalError => "InternalError",
            Self::CallerNotAllowed => "CallerNotAllowed",
        }
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code is its string form (what a caller reads in `error`).
impl PartialEq<&str> for ReplyCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A reply the filter gives instead of invoking the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub code: ReplyCode,
    /// What the caller reads by default: a fixed text per kind of reply.
    pub summary: &'static str,
    /// The full reason, for the log (and callers with `detailed_errors: true`).
    pub message: String,
}

/// The summary of every reply that says no credentials were there to sign with.
const NO_CREDENTIALS: &str =
    "no AWS credentials to sign the request with; nothing was sent to Lambda";
/// The summary of every reply that says Lambda's answer never came.
const NO_ANSWER: &str = "no answer from Lambda (timeout or connection failure)";
/// The summary of every 413.
const TOO_LARGE: &str = "the request exceeds the size limit; nothing was sent to Lambda";

impl LocalReply {
    /// Whether the reply's cause is logged once elsewhere (each failed credential fetch, an
    /// Envoy holding bodies back) or is the caller's own (a body over the limit, a caller not
    /// on the function's list): its per-request line is then at info, not warn.
    pub fn cause_logged_once(&self) -> bool {
        self.status == 413
            || self.code == ReplyCode::CallerNotAllowed
            || self.code == ReplyCode::CredentialsUnavailable
            || self.code == ReplyCode::BodyNotDelivered
            || self.code == ReplyCode::TenantIdMissing
    }

    pub fn too_large(size: u64, limit: u64) -> Self {
        Self {
            status: 413,
            code: ReplyCode::RequestTooLarge,
            summary: TOO_LARGE,
            message: format!(
                "request body of {size} bytes exceeds max_request_bytes ({limit}); nothing was sent to Lambda"
            ),
        }
    }

    /// The event (the body encoded) is over the limit although the body was not.
    pub fn event_too_large(size: u64, limit: u64) -> Self {
        Self {
            status: 413,
            code: ReplyCode::RequestTooLarge,
            summary: TOO_LARGE,
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
            code: ReplyCode::MalformedFunctionResult,
            summary: "the function's result is not a usable response",
            message: reason.to_owned(),
        }
    }

    pub fn lambda_unreachable() -> Self {
        Self {
            status: 503,
            code: ReplyCode::LambdaUnreachable,
            summary: NO_ANSWER,
            message: NO_ANSWER.into(),
        }
    }

    /// The filter's own Invoke call (event formats) got no answer within `invoke_timeout_ms`:
    /// Envoy answered it 504 with `text`.
    pub fn lambda_timeout(timeout_ms: u64, text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text.get(..200).unwrap_or(text));
        Self {
            status: 504,
            code: ReplyCode::LambdaTimeout,
            summary: "Lambda did not answer in time",
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
            code: ReplyCode::LambdaUnreachable,
            summary: NO_ANSWER,
            message: format!("no answer from Lambda: the proxy answered the call {status}: {text}"),
        }
    }

    pub fn credentials_unavailable(reason: &str) -> Self {
        Self {
            status: 503,
            code: ReplyCode::CredentialsUnavailable,
            summary: NO_CREDENTIALS,
            message: format!("{reason}; nothing was sent to Lambda"),
        }
    }

    pub fn credentials_timeout(waited_ms: u64, providers: &str) -> Self {
        Self {
            status: 503,
            code: ReplyCode::CredentialsUnavailable,
            summary: NO_CREDENTIALS,
            message: format!(
                "no AWS credentials after waiting {waited_ms} ms for the providers ({providers}); \
                 nothing was sent to Lambda"
            ),
        }
    }

    pub fn body_not_delivered() -> Self {
        Self {
            status: 500,
            code: ReplyCode::BodyNotDelivered,
            summary: "the request body did not reach the filter; nothing was sent to Lambda",
            message: "Envoy received the request body but did not hand it to the filter: it \
                      holds bodies back unless the wasm filter's config sets \
                      allow_on_headers_stop_iteration: true (Envoy 1.35 or later); nothing was \
                      sent to Lambda"
                .into(),
        }
    }

    /// A tenant-isolated function's request without a tenant id the filter can send (Lambda
    /// would refuse the call: `InvalidParameterValueException`).
    pub fn tenant_id_missing(reason: &str) -> Self {
        Self {
            status: 400,
            code: ReplyCode::TenantIdMissing,
            summary:
                "the request carries no tenant id for this function; nothing was sent to Lambda",
            message: format!("{reason}; nothing was sent to Lambda"),
        }
    }

    pub fn internal(reason: &str) -> Self {
        Self {
            status: 500,
            code: ReplyCode::InternalError,
            summary: "the filter could not make the call; nothing was sent to Lambda",
            message: format!("{reason}; nothing was sent to Lambda"),
        }
    }

    /// The caller may not invoke the function: `reason` (for the log) names the caller, as
    /// the sidecar vouched for it, and why.
    pub fn caller_not_allowed(reason: &str) -> Self {
        Self {
            status: 403,
            code: ReplyCode::CallerNotAllowed,
            summary:
                "the caller is not allowed to invoke this function; nothing was sent to Lambda",
            message: format!("{reason}; nothing was sent to Lambda"),
        }
    }

    /// The JSON body: the summary, or with `detailed` the full reason.
    pub fn body(&self, detailed: bool) -> String {
        let message = if detailed {
            self.message.as_str()
        } else {
            self.summary
        };
        serde_json::json!({ "error": self.code.as_str(), "message": message }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON's `error` is the code it spells.
    impl PartialEq<ReplyCode> for serde_json::Value {
        fn eq(&self, code: &ReplyCode) -> bool {
            self == code.as_str()
        }
    }

    #[test]
    fn body_is_json_with_code_and_message() {
        let r = LocalReply::credentials_unavailable("no \"AWS\" keys");
        let v: serde_json::Value = serde_json::from_str(&r.body(true)).unwrap();
        assert_eq!(v["error"], "CredentialsUnavailable");
        assert_eq!(v["message"], "no \"AWS\" keys; nothing was sent to Lambda");
        let v: serde_json::Value = serde_json::from_str(&r.body(false)).unwrap();
        assert_eq!(v["error"], "CredentialsUnavailable");
        assert_eq!(v["message"], NO_CREDENTIALS);
        assert_eq!(LocalReply::too_large(10, 5).status, 413);
    }

    /// Every kind of reply, each built from outside text carrying a role ARN, an account, a
    /// cluster name and STS's words: by default the caller reads none of it (nor any number
    /// from it), only the code and the summary; `detailed_errors` gives it all.
    #[test]
    fn by_default_no_reply_carries_outside_text() {
        const OUTSIDE: &str =
            "sts: AccessDenied: User: arn:aws:iam::210987654321:user/mesh is not \
            authorized to perform sts:AssumeRole on arn:aws:iam::444455556666:role/invoker \
            (cluster \"outbound|443||lambda.internal\")";
        let replies = [
            LocalReply::too_large(7_340_033, 6_291_456),
            LocalReply::event_too_large(7_340_033, 6_291_456),
            LocalReply::malformed_result(OUTSIDE),
            LocalReply::lambda_unreachable(),
            LocalReply::lambda_timeout(15_000, OUTSIDE.as_bytes()),
            LocalReply::lambda_unreachable_answered(503, OUTSIDE.as_bytes()),
            LocalReply::credentials_unavailable(OUTSIDE),
            LocalReply::credentials_timeout(5_000, OUTSIDE),
            LocalReply::body_not_delivered(),
            LocalReply::internal(OUTSIDE),
            LocalReply::caller_not_allowed(OUTSIDE),
        ];
        let secret_words = [
            "arn:",
            "iam",
            "210987654321",
            "444455556666",
            "sts",
            "STS",
            "AccessDenied",
            "AssumeRole",
            "role",
            "cluster",
            "outbound",
            "lambda.internal",
            "mesh",
            "invoker",
            "7340033",
            "6291456",
            "15000",
            "5000",
            "503",
            "allow_on_headers",
        ];
        for reply in &replies {
            let shown: serde_json::Value = serde_json::from_str(&reply.body(false)).unwrap();
            assert_eq!(shown["error"], reply.code);
            let message = shown["message"].as_str().unwrap();
            assert_eq!(message, reply.summary);
            for word in secret_words {
                assert!(
                    !message.contains(word),
                    "{}: {message:?} has {word:?}",
                    reply.code
                );
            }
            let detailed: serde_json::Value = serde_json::from_str(&reply.body(true)).unwrap();
            assert_eq!(detailed["message"], reply.message.as_str());
        }
        for reply in &replies[4..8] {
            assert!(reply.message.contains("444455556666"), "{}", reply.message);
        }
    }
}
