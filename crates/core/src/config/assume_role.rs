//! The `credentials.assume_role` block: the role to assume through STS and how STS is reached.
//! The limits are STS's own (`AssumeRole`'s parameters), so a value STS would refuse is
//! refused at configure time instead of on the first request.

use super::error::quote_str;
use super::fields::Fields;
use super::{is_valid_host, ConfigError};
use crate::credentials::chain::{
    AssumeRoleSettings, DEFAULT_ROLE_DURATION_SECONDS, DEFAULT_SESSION_NAME, DEFAULT_STS_CLUSTER,
};

/// Reads the block; `region` is the function's, whose STS endpoint is the default.
pub(super) fn read(
    mut fields: Fields<'_>,
    region: &str,
) -> Result<AssumeRoleSettings, ConfigError> {
    let role_arn = fields.string("role_arn");
    let external_id = fields.string("external_id");
    let session_name = fields.string("session_name");
    let duration_seconds = fields.whole_number("duration_seconds", 900..=43_200);
    let sts_cluster = fields.string("sts_cluster");
    let sts_host = fields.string("sts_host");
    fields.finish()?;

    let role_arn = role_arn?.ok_or_else(|| fields.error("role_arn", "is required"))?;
    if !is_role_arn(role_arn) {
        return Err(fields.error(
            "role_arn",
            format!(
                "{} is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, \
                 the name 1 to 64 characters, letters, digits and _+=,.@- only)",
                quote_str(role_arn)
            ),
        ));
    }
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
        None => default_sts_host(region),
        Some(h) if is_valid_host(h) => h.to_ascii_lowercase(),
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
    Ok(AssumeRoleSettings {
        role_arn: role_arn.to_owned(),
        external_id: external_id.map(str::to_owned),
        session_name: session_name.to_owned(),
        duration_seconds,
        sts_cluster: sts_cluster.to_owned(),
        sts_host,
        region: region.to_owned(),
    })
}

/// STS's regional endpoint (the China regions' under `amazonaws.com.cn`).
pub fn default_sts_host(region: &str) -> String {
    if region.starts_with("cn-") {
        format!("sts.{region}.amazonaws.com.cn")
    } else {
        format!("sts.{region}.amazonaws.com")
    }
}

/// `arn:<partition>:iam::<12 digits>:role/[<path>/]<name>`, the path's segments and the
/// name (1 to 64 characters) of letters, digits and `_+=,.@-`. One yes or no and one message:
/// each message formatted costs the .wasm, and the one message says the whole form.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some(path_and_name) = resource.strip_prefix("role/") else {
        return false;
    };
    let name_start = path_and_name
        .bytes()
        .rposition(|b| b == b'/')
        .map_or(0, |slash| slash + 1);
    let name_length = path_and_name.len() - name_start;
    !partition.is_empty()
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && path_and_name.len() <= 512
        && (1..=64).contains(&name_length)
        && path_and_name
            .split('/')
            .all(|segment| has_only(segment, 1..=512, "+=,.@-"))
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
