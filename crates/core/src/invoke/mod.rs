//! Maps a caller's request onto a signed Lambda Invoke call. Everything fixed by the
//! configuration (path, host, canonical URI and query) is computed once here; what stays the
//! same for a second is cached by `signer`; per request only the body hash and the signature
//! are computed.

pub mod client_context;
pub mod outgoing;
pub mod signer;

use crate::config::FilterConfig;
use crate::sigv4::{canonical, encode::uri_encode};
use mesh_lambda_sha256::Sha256;

pub use signer::{Signature, SigningCache};

/// What a call carries of who called, signed: the caller's identity (`client_context`, the
/// header's value) and a tenant-isolated function's tenant id (`X-Amz-Tenant-Id`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    pub client_context: Option<&'a str>,
    pub tenant_id: Option<&'a str>,
}

impl Identity<'_> {
    /// No caller known, no tenant id: today's call.
    pub const NONE: Identity<'static> = Identity {
        client_context: None,
        tenant_id: None,
    };
}

/// The tenant id's header.
pub const TENANT_ID_HEADER: &str = "x-amz-tenant-id";

const SERVICE: &str = "lambda";

/// The Invoke call for one configured function.
#[derive(Clone)]
pub struct InvokeTarget {
    /// `:path` on the wire: `/2015-03-31/functions/<encoded ARN>/invocations[?Qualifier=..]`
    /// (streamed: `/2021-11-15/functions/<encoded ARN>/response-streaming-invocations`).
    pub path: String,
    pub host: String,
    pub region: String,
    pub invocation_type: &'static str,
    /// The SHA-256 state after the part of every canonical request fixed by the
    /// configuration: `POST\n<canonical URI>\n<canonical query>\nhost:<host>\n`.
    canonical_prefix: Sha256,
    /// `/<region>/lambda/aws4_request`: the credential scope after its date.
    scope_suffix: String,
    /// What the signature covers of the target, hashed: compared per request
    /// (`signing_id`), where comparing the strings byte by byte cost about 1 k instructions
    /// in the VM.
    signing_id: u128,
}

impl InvokeTarget {
    pub fn new(config: &FilterConfig) -> Self {
        let mut path = config
            .invocation_mode
            .path(&uri_encode(&config.arn.function_arn));
        let query = config
            .qualifier
            .as_deref()
            .map(|q| format!("Qualifier={}", uri_encode(q)))
            .unwrap_or_default();
        let canonical_prefix = format!(
            "POST\n{}\n{}\nhost:{}\n",
            canonical::canonical_uri(&path, false),
            canonical::canonical_query(&query),
            config.host
        );
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
        let region = &config.arn.region;
        let invocation_type = config.invocation_mode.invocation_type();
        let covered = [path.as_str(), &config.host, region, invocation_type]
            .map(|part| format!("{}:{part}", part.len()))
            .concat();
        let digest = mesh_lambda_sha256::digest(covered.as_bytes());
        let id: [u8; 16] = digest
            .get(..16)
            .and_then(|head| head.try_into().ok())
            .unwrap_or_default();
        Self {
            signing_id: u128::from_le_bytes(id),
            path,
            host: config.host.clone(),
            region: region.clone(),
            invocation_type,
            scope_suffix: format!("/{}/{SERVICE}/aws4_request", config.arn.region),
            canonical_prefix: Sha256::with_prefix(canonical_prefix.as_bytes()),
        }
    }

    /// Whether Lambda hands a client context to the function in this mode: for synchronous
    /// invocations only (the Invoke API's `ClientContext`), streamed ones included; not for
    /// `Event` nor `DryRun` (which runs nothing).
    pub fn takes_client_context(&self) -> bool {
        self.invocation_type == "RequestResponse"
    }

    /// Equal for two targets whose requests are signed alike: same path (ARN, qualifier,
    /// mode), host, region and invocation type, all that the signature covers of a target
    /// (the scope and the canonical prefix are made from them); 128 bits of their SHA-256.
    pub fn signing_id(&self) -> u128 {
        self.signing_id
    }

    /// Everything the filter sets on the outgoing request besides the method.
    pub fn headers<'a>(
        &'a self,
        signature: &'a Signature,
        session_token: Option<&'a str>,
        identity: &Identity<'a>,
    ) -> Vec<(&'static str, &'a str)> {
        let mut headers = vec![
            (":path", self.path.as_str()),
            (":authority", self.host.as_str()),
            ("x-amz-invocation-type", self.invocation_type),
            ("x-amz-date", signature.amz_date.as_str()),
        ];
        if let Some(value) = identity.client_context {
            headers.push((client_context::HEADER, value));
        }
        if let Some(tenant) = identity.tenant_id {
            headers.push((TENANT_ID_HEADER, tenant));
        }
        if let Some(hash) = signature.content_sha256 {
            headers.push(("x-amz-content-sha256", hash));
        }
        if let Some(token) = session_token {
            headers.push(("x-amz-security-token", token));
        }
        headers.push(("authorization", signature.authorization.as_str()));
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    pub(crate) fn target(extra: &str) -> InvokeTarget {
        let json = format!(
            r#"{{"arn":"arn:aws:lambda:us-east-1:123456789012:function:authentication","payload_passthrough":true{extra}}}"#
        );
        InvokeTarget::new(&parse_config(json.as_bytes()).unwrap())
    }

    #[test]
    fn path_encodes_the_arn_and_qualifier() {
        assert_eq!(
            target("").path,
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aauthentication/invocations"
        );
        assert!(target(r#","qualifier":"$LATEST""#)
            .path
            .ends_with("/invocations?Qualifier=%24LATEST"));
    }

    #[test]
    fn a_streamed_invocation_is_signed_for_its_own_path() {
        let streamed = target(r#","invocation_mode":"streaming","qualifier":"live""#);
        assert_eq!(
            streamed.path,
            "/2021-11-15/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aauthentication/response-streaming-invocations?Qualifier=live"
        );
        assert_eq!(streamed.invocation_type, "RequestResponse");
        // The canonical URI encodes the path's `%` again, as SigV4 wants for every service
        // but S3; the prefix hashed once must be that of the streaming path.
        let expected = format!(
            "POST\n{}\nQualifier=live\nhost:lambda.us-east-1.amazonaws.com\n",
            "/2021-11-15/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012%253Afunction%253Aauthentication/response-streaming-invocations"
        );
        assert_eq!(
            streamed.canonical_prefix.digest(),
            mesh_lambda_sha256::digest(expected.as_bytes())
        );
    }
}
