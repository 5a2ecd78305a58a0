//! A function's `tenant_id`: where the tenant id of a function created with tenant isolation
//! (`TenancyConfig: {TenantIsolationMode: PER_TENANT}`) comes from. The filter sends it as
//! `X-Amz-Tenant-Id`, signed; a request for which there is none is answered 400 before
//! anything is sent (Lambda refuses such a call with `InvalidParameterValueException`).
//!
//! - `{"from": "caller_service"}`: the mesh service that called (the `caller` setting's).
//! - `{"from": "header", "header": "x-tenant-id"}`: a request header, which must be one only
//!   the gateway's own sidecar can set (it sets or strips it on every request).
//!
//! Absent: no tenant id is sent.
//!
//! The rule for a tenant id is the Invoke API's `TenantId` (botocore's
//! `data/lambda/2015-03-31/service-2.json`, shape `TenantId`: 1 to 256 characters,
//! pattern `[a-zA-Z0-9\._:\/=+\-@ ]+`; https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).

use super::error::quote_str;
use super::fields::Fields;
use super::ConfigError;

/// The longest tenant id Lambda takes (the `TenantId` shape's `max`).
pub const MAX_TENANT_ID: usize = 256;

/// Where a function's tenant id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantIdSource {
    /// The calling mesh service's name.
    CallerService,
    /// This request header (lower-case), set by the gateway's sidecar only.
    Header(String),
}

/// Whether `value` can be sent as `X-Amz-Tenant-Id` as it is: Lambda's `TenantId` (1 to 256
/// of ASCII letters, digits and `._:/=+-@ `), and the space only inside, alone: a header
/// value loses its spaces at its ends, and SigV4 signs runs of spaces folded to one, so such
/// a value would not reach Lambda as it was signed.
pub fn is_tenant_id(value: &[u8]) -> bool {
    (1..=MAX_TENANT_ID).contains(&value.len())
        && value.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_' | b':' | b'/' | b'=' | b'+' | b'-' | b'@' | b' '
                )
        })
        && value.first() != Some(&b' ')
        && value.last() != Some(&b' ')
        && !value.windows(2).any(|pair| pair == b"  ")
}

/// Whether `name` is a header name the filter can look up: lower-case token characters.
fn is_header_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b'-' | b'_' | b'.' | b'!' | b'#' | b'$' | b'%' | b'&')
                || matches!(b, b'\'' | b'*' | b'+' | b'^' | b'`' | b'|' | b'~')
        })
}

/// Reads a function's `tenant_id` block (its reader is `tenant_id.`-prefixed).
pub fn read(mut fields: Fields<'_>) -> Result<TenantIdSource, ConfigError> {
    let from = fields.string("from");
    let header = fields.string("header");
    fields.finish()?;
    match from? {
        Some("caller_service") => {
            if header?.is_some() {
                return Err(fields.error("header", "applies only with from: \"header\""));
            }
            Ok(TenantIdSource::CallerService)
        }
        Some("header") => {
            let name = header?.ok_or_else(|| {
                fields.error(
                    "header",
                    "is required with from: \"header\" (a header only the gateway's sidecar sets)",
                )
            })?;
            let lower = name.to_ascii_lowercase();
            if !is_header_name(&lower) {
                return Err(fields.error(
                    "header",
                    format!("{} is not a header name", quote_str(name)),
                ));
            }
            Ok(TenantIdSource::Header(lower))
        }
        Some(other) => Err(fields.error(
            "from",
            format!(
                "unknown value {}, expected caller_service or header",
                quote_str(other)
            ),
        )),
        None => Err(fields.error("from", "is required: caller_service or header")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_block_refused, parse};
    use super::*;

    const ARN: &str = r#""arn":"arn:aws:lambda:us-east-1:123456789012:function:f""#;

    fn tenant(block: &str) -> Option<TenantIdSource> {
        parse(&format!(r#"{{{ARN},"tenant_id":{block}}}"#))
            .unwrap()
            .tenant_id
    }

    #[test]
    fn the_tenant_id_comes_from_the_caller_or_a_header() {
        assert_eq!(
            tenant(r#"{"from":"caller_service"}"#),
            Some(TenantIdSource::CallerService)
        );
        assert_eq!(
            tenant(r#"{"from":"header","header":"X-Tenant-Id"}"#),
            Some(TenantIdSource::Header("x-tenant-id".into()))
        );
        assert_eq!(parse(&format!("{{{ARN}}}")).unwrap().tenant_id, None);
    }

    #[test]
    fn a_tenant_id_block_that_cannot_be_meant_is_refused_naming_the_field() {
        assert_block_refused(
            "tenant_id",
            &[
                ("{}", "tenant_id.from: is required"),
                (r#"{"from":"caller"}"#, "tenant_id.from: unknown value"),
                (r#"{"from":"header"}"#, "tenant_id.header: is required"),
                (
                    r#"{"from":"header","header":"x tenant"}"#,
                    "tenant_id.header: \"x tenant\" is not a header name",
                ),
                (
                    r#"{"from":"header","header":":path"}"#,
                    "tenant_id.header: \":path\" is not a header name",
                ),
                (
                    r#"{"from":"caller_service","header":"x"}"#,
                    "tenant_id.header: applies only",
                ),
                (
                    r#"{"from":"header","heder":"x"}"#,
                    "tenant_id.heder: unknown",
                ),
                (r#""api""#, "tenant_id: expected an object"),
            ],
        );
    }

    /// The `TenantId` shape of the Invoke API (botocore's lambda service-2.json: min 1, max
    /// 256, pattern `[a-zA-Z0-9\._:\/=+\-@ ]+`), less the spaces a header cannot carry as
    /// signed.
    #[test]
    fn a_tenant_id_is_lambdas_pattern_and_length() {
        for good in ["blue", "a", "t-1_x.y:z/w=v+u@s", "two words", "A9"] {
            assert!(is_tenant_id(good.as_bytes()), "{good}");
        }
        assert!(is_tenant_id("a".repeat(MAX_TENANT_ID).as_bytes()));
        for bad in [
            "", " a", "a ", "a  b", "a,b", "a\"b", "ä", "a\nb", "a\tb", "a;b",
        ] {
            assert!(!is_tenant_id(bad.as_bytes()), "{bad:?}");
        }
        assert!(!is_tenant_id("a".repeat(MAX_TENANT_ID + 1).as_bytes()));
    }
}
