//! The `credentials.assume_role` block: the role to assume through STS and how STS is reached.
//! The limits are STS's own (`AssumeRole`'s parameters), so a value STS would refuse is
//! refused at configure time instead of on the first request.

use super::error::quote_str;
use super::fields::Fields;
use super::{is_valid_host, ConfigError};
use crate::arn::{partition_of_region, FunctionArn};
use crate::credentials::chain::{
    AssumeRoleSettings, DEFAULT_ROLE_DURATION_SECONDS, DEFAULT_SESSION_NAME, DEFAULT_STS_CLUSTER,
};

/// Reads the block; `function` is the function's ARN: STS in its region is the default, and
/// the role and STS must be in its partition (credentials are good in one partition only).
pub(super) fn read(
    mut fields: Fields<'_>,
    function: &FunctionArn,
) -> Result<AssumeRoleSettings, ConfigError> {
    let role_arn = fields.string("role_arn");
    let external_id = fields.string("external_id");
    let session_name = fields.string("session_name");
    let duration_seconds = fields.whole_number("duration_seconds", 900..=43_200);
    let sts_cluster = fields.string("sts_cluster");
    let sts_host = fields.string("sts_host");
    let sts_region = fields.string("sts_region");
    fields.finish()?;

    let role_arn = role_arn?.ok_or_else(|| fields.error("role_arn", "is required"))?;
    let Some(role_partition) = role_partition(role_arn) else {
        return Err(fields.error(
            "role_arn",
            format!(
                "{} is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, \
                 the name 1 to 64 characters, letters, digits and _+=,.@- only)",
                quote_str(role_arn)
            ),
        ));
    };
    // Credentials are good in one partition only: the role and STS must be in the function's.
    let partition = function.partition.id;
    let in_partition = |field, what: String, id: Option<&str>| match id {
        Some(id) if id == partition => Ok(()),
        other => Err(fields.error(
            field,
            format!(
                "{what} is in partition {}, the function in {partition}",
                other.unwrap_or("none")
            ),
        )),
    };
    in_partition("role_arn", quote_str(role_arn), Some(role_partition))?;
    // STS's limits on its parameters, so STS cannot refuse them later.
    let checked = |name, value: Option<&str>, length, extra, allowed| match value {
        Some(v) if !has_only(v, length, extra) => {
            Err(fields.error(name, format!("{} must be {allowed}", quote_str(v))))
        }
        _ => Ok(()),
    };
    let external_id = external_id?;
    checked(
        "external_id",
        external_id,
        2..=1224,
        "+=,.@:/-",
        "2 to 1224 characters: letters, digits and _+=,.@:/-",
    )?;
    let session_name = session_name?.unwrap_or(DEFAULT_SESSION_NAME);
    checked(
        "session_name",
        Some(session_name),
        2..=64,
        "+=,.@-",
        "2 to 64 characters: letters, digits and _+=,.@-",
    )?;
    let duration_seconds = duration_seconds?.unwrap_or(DEFAULT_ROLE_DURATION_SECONDS);
    let sts_cluster = sts_cluster?.unwrap_or(DEFAULT_STS_CLUSTER);
    if sts_cluster.trim().is_empty() {
        return Err(fields.error("sts_cluster", "must not be empty"));
    }
    let sts_host = match sts_host? {
        None => None,
        Some(h) if is_valid_host(h) => Some(h.to_ascii_lowercase()),
        Some(h) => {
            return Err(fields.error(
                "sts_host",
                format!(
                    "{} is not a host name (letters, digits, '.', '-', optional :port)",
                    quote_str(h)
                ),
            ))
        }
    };
    let region_in_partition = |field, region: &str| {
        let id = partition_of_region(region).map(|p| p.id);
        in_partition(field, format!("region {}", quote_str(region)), id)
    };
    let sts_region = sts_region?;
    if let Some(region) = sts_region {
        region_in_partition("sts_region", region)?;
    }
    // The region the call is signed for is STS's, which its host names; a host that names
    // none (a proxy, a local STS) needs `sts_region`.
    let (sts_host, region) = match (sts_host, sts_region) {
        (None, region) => {
            let region = region.unwrap_or(&function.region);
            (
                function.partition.endpoint("sts", region),
                region.to_owned(),
            )
        }
        (Some(host), given) => match (region_of_sts_host(&host), given) {
            (Some(named), Some(given)) if named != given => {
                return Err(fields.error(
                    "sts_region",
                    format!(
                        "{} is not the region of sts_host {} ({named})",
                        quote_str(given),
                        quote_str(&host)
                    ),
                ))
            }
            (Some(named), _) => {
                region_in_partition("sts_host", named)?;
                let named = named.to_owned();
                (host, named)
            }
            (None, Some(given)) => (host, given.to_owned()),
            (None, None) => {
                return Err(fields.error(
                    "sts_host",
                    format!(
                        "{} names no region (sts.<region>.<partition domain>, its fips or \
                         VPC endpoint name, or sts.amazonaws.com): give sts_region, the \
                         region STS signs for",
                        quote_str(&host)
                    ),
                ))
            }
        },
    };
    Ok(AssumeRoleSettings {
        role_arn: role_arn.to_owned(),
        external_id: external_id.map(str::to_owned),
        session_name: session_name.to_owned(),
        duration_seconds,
        sts_cluster: sts_cluster.to_owned(),
        sts_host,
        region,
    })
}

/// The region STS at `host` signs for: `sts.<region>.<domain>` and `sts-fips.<region>.<domain>`
/// (botocore's `data/endpoints.json`), the same behind an interface VPC endpoint
/// (`vpce-<id>.sts.<region>.vpce.<domain>`), and the global `sts.amazonaws.com`, which is
/// us-east-1 (its `aws-global` endpoint's `credentialScope`). `<domain>` is the region's
/// partition's.
pub fn region_of_sts_host(host: &str) -> Option<&str> {
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    if name == "sts.amazonaws.com" {
        return Some("us-east-1");
    }
    let mut labels = name.splitn(2, '.');
    let (first, rest) = (labels.next()?, labels.next()?);
    let (service, after, vpce) = match first.strip_prefix("vpce-") {
        Some(_) => {
            let (service, after) = rest.split_once('.')?;
            (service, after, true)
        }
        None => (first, rest, false),
    };
    if service != "sts" && service != "sts-fips" {
        return None;
    }
    let (region, domain) = after.split_once('.')?;
    let partition = partition_of_region(region)?;
    let domain = if vpce {
        domain.strip_prefix("vpce.")?
    } else {
        domain
    };
    (domain == partition.domain).then_some(region)
}

/// The partition of `arn:<partition>:iam::<12 digits>:role/[<path>/]<name>`, the path's
/// segments and the name (1 to 64 characters) of letters, digits and `_+=,.@-`; `None` when
/// `arn` is not one. One message for all: each message formatted costs the .wasm, and the
/// one message says the whole form.
fn role_partition(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let path_and_name = resource.strip_prefix("role/")?;
    let name_start = path_and_name
        .bytes()
        .rposition(|b| b == b'/')
        .map_or(0, |slash| slash + 1);
    let name_length = path_and_name.len() - name_start;
    let valid = !partition.is_empty()
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && path_and_name.len() <= 512
        && (1..=64).contains(&name_length)
        && path_and_name
            .split('/')
            .all(|segment| has_only(segment, 1..=512, "+=,.@-"));
    valid.then_some(partition)
}

/// `text` is `length` characters of letters, digits, `_` and `extra`.
fn has_only(text: &str, length: std::ops::RangeInclusive<usize>, extra: &str) -> bool {
    length.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || extra.as_bytes().contains(&b))
}

#[cfg(test)]
mod tests;
