//! A tenant-isolated function's tenant id, found at the request's headers (so that a request
//! without one is answered 400 before its body is buffered and before anything is sent):
//! the caller's service name, or the value of the configured header.
//!
//! Lambda refuses a call to a tenant-isolated function that carries no tenant id with
//! `InvalidParameterValueException` ("This error occurs when invoking a tenant-isolated
//! function without a tenant ID, or invoking a non-tenant-isolated function with a tenant
//! ID", https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation-troubleshooting.html);
//! the filter answers such a request itself, saying why.

use crate::caller::Caller;
use crate::config::{is_tenant_id, TenantIdSource, MAX_TENANT_ID};
use crate::header_pairs;
use crate::local_reply::LocalReply;

/// The tenant id `source` gives for a request of `caller` with these (serialized) headers,
/// or the 400 saying why there is none.
pub fn tenant_id(
    source: &TenantIdSource,
    caller: Option<&Caller>,
    headers: &[u8],
) -> Result<String, LocalReply> {
    match source {
        TenantIdSource::CallerService => {
            let caller = caller.ok_or_else(|| {
                LocalReply::tenant_id_missing(
                    "the function's tenant id is the caller's service, and no caller is known \
                     (the filter's caller setting names none for this request)",
                )
            })?;
            // A service name (letters, digits, `-`, `_`, `.`; 128 bytes at most) is always a
            // tenant id Lambda takes; checked all the same.
            if is_tenant_id(caller.service.as_bytes()) {
                Ok(caller.service.clone())
            } else {
                Err(LocalReply::tenant_id_missing(
                    "the caller's service name is not a tenant id Lambda takes",
                ))
            }
        }
        TenantIdSource::Header(name) => match header_pairs::find(headers, name) {
            None => Err(LocalReply::tenant_id_missing(&format!(
                "the function's tenant id is the {name} header, which the request does not carry"
            ))),
            Some(value) => match std::str::from_utf8(value) {
                Ok(text) if is_tenant_id(value) => Ok(text.to_owned()),
                _ => Err(LocalReply::tenant_id_missing(&format!(
                    "the {name} header ({} bytes) is not a tenant id Lambda takes \
                     (1 to {MAX_TENANT_ID} of letters, digits, and ._:/=+-@ or single inner spaces)",
                    value.len()
                ))),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_reply::ReplyCode;

    fn headers(pairs: &[(&str, &str)]) -> Vec<u8> {
        let pairs: Vec<(&str, &[u8])> = pairs.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        header_pairs::serialize(&pairs).unwrap()
    }

    #[test]
    fn the_callers_service_is_the_tenant() {
        let api = Caller::new("api".into(), None);
        assert_eq!(
            tenant_id(&TenantIdSource::CallerService, Some(&api), &headers(&[])),
            Ok("api".into())
        );
        let refused = tenant_id(&TenantIdSource::CallerService, None, &headers(&[])).unwrap_err();
        assert_eq!(
            (refused.status, refused.code),
            (400, ReplyCode::TenantIdMissing)
        );
        assert!(
            refused.message.contains("no caller is known"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_header_gives_the_tenant_when_lambda_takes_its_value() {
        let source = TenantIdSource::Header("x-tenant-id".into());
        let request = headers(&[(":path", "/"), ("x-tenant-id", "blue team")]);
        assert_eq!(tenant_id(&source, None, &request), Ok("blue team".into()));
        let too_long = "t".repeat(MAX_TENANT_ID + 1);
        for (request, why) in [
            (headers(&[(":path", "/")]), "does not carry"),
            (
                headers(&[("x-tenant-id", "")]),
                "(0 bytes) is not a tenant id",
            ),
            (headers(&[("x-tenant-id", "a,b")]), "is not a tenant id"),
            (headers(&[("x-tenant-id", "a  b")]), "is not a tenant id"),
            (headers(&[("x-tenant-id", &too_long)]), "(257 bytes)"),
            (headers(&[("x-other", "blue")]), "does not carry"),
        ] {
            let refused = tenant_id(&source, None, &request).unwrap_err();
            assert_eq!(
                (refused.status, refused.code),
                (400, ReplyCode::TenantIdMissing)
            );
            assert!(refused.message.contains(why), "{why}: {}", refused.message);
            assert!(refused.message.ends_with("nothing was sent to Lambda"));
        }
        let bytes = header_pairs::serialize(&[("x-tenant-id", &b"\xff"[..])]).unwrap();
        assert!(tenant_id(&source, None, &bytes).is_err());
    }
}
