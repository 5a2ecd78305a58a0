//! What the description's names, hosts, paths and addresses may be (Consul and Kubernetes
//! names, labels, DNS names, absolute paths, IPv4 addresses), and the error that says where
//! one is wrong.

use mesh_lambda_core::config::fields::Fields;
use mesh_lambda_core::config::ConfigError;

/// An error in the description: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionError(pub String);

impl From<ConfigError> for DescriptionError {
    fn from(e: ConfigError) -> Self {
        Self(format!("{}: {}", e.field, e.message))
    }
}

/// A DNS-1123 label: what Kubernetes takes as a namespace and as these resources' names.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

pub fn kubernetes_name(
    fields: &Fields,
    field: &str,
    value: &str,
) -> Result<String, DescriptionError> {
    if is_dns_label(value) {
        Ok(value.to_owned())
    } else {
        Err(fields
            .error(
                field,
                format!("{value:?} is not a Kubernetes name (lowercase letters, digits, '-')"),
            )
            .into())
    }
}

/// A label name without a prefix, or `prefix/name` with a DNS prefix.
pub fn is_label_name(name: &str) -> bool {
    let (prefix, name) = name.rsplit_once('/').unwrap_or(("", name));
    (prefix.is_empty() || is_hostname(prefix)) && !name.is_empty() && is_label_value(name)
}

pub fn is_label_value(value: &str) -> bool {
    value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && value
            .bytes()
            .next()
            .is_none_or(|b| b.is_ascii_alphanumeric())
        && value
            .bytes()
            .last()
            .is_none_or(|b| b.is_ascii_alphanumeric())
}

/// A DNS name: dot-separated labels of letters, digits and '-'.
pub fn is_hostname(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Consul service, namespace, partition and datacenter names (what this generator accepts:
/// they are embedded in Envoy names and in the files' strings).
pub fn is_consul_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn absolute_path(
    fields: &Fields,
    field: &str,
    value: Option<&str>,
    default: Option<&str>,
) -> Result<String, DescriptionError> {
    match value.or(default) {
        None => Err(fields
            .error(field, "is required: the path, on the sidecar, of the file")
            .into()),
        Some(p) if p.starts_with('/') && !p.contains(['"', '\n', '\r', '\\']) => Ok(p.to_owned()),
        Some(p) => Err(fields
            .error(field, format!("{p:?} is not an absolute path"))
            .into()),
    }
}

pub fn ipv4(
    fields: &Fields,
    field: &str,
    value: Option<&str>,
    default: &str,
) -> Result<String, DescriptionError> {
    match value {
        None => Ok(default.to_owned()),
        Some(a) if a.parse::<std::net::Ipv4Addr>().is_ok() => Ok(a.to_owned()),
        Some(a) => Err(fields
            .error(field, format!("{a:?} is not an IPv4 address"))
            .into()),
    }
}

/// A route's path prefix: `/<segments>/`, of URL-unreserved characters only (what Envoy's
/// prefix match, Consul's `PathPrefix` and `PrefixRewrite` take as they are, no escaping),
/// ending with `/` so that `/auth/` never matches `/authentication`.
pub fn is_path_prefix(prefix: &str) -> bool {
    prefix.len() >= 3
        && prefix.len() <= 200
        && prefix.starts_with('/')
        && prefix.ends_with('/')
        && !prefix.contains("//")
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::is_path_prefix;

    #[test]
    fn a_path_prefix_is_slash_segments_slash() {
        for good in ["/authentication/", "/a_b/", "/v1/billing/", "/x.y~z-1/"] {
            assert!(is_path_prefix(good), "{good}");
        }
        // No trailing slash (it would match /authentication-admin too), none leading, a
        // doubled slash, characters Envoy and Consul would read differently once escaped.
        for bad in [
            "/auth", "auth/", "/", "//", "/a//b/", "/a b/", "/a%2F/", "/a?b/", "/é/", "/a\"/",
        ] {
            assert!(!is_path_prefix(bad), "{bad}");
        }
        assert!(!is_path_prefix(&format!("/{}/", "a".repeat(200))));
    }
}
