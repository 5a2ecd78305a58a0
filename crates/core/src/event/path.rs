//! The path an event carries when the route Envoy chose stands for a prefix of it: a gateway
//! routes `/authentication/login` to the function `authentication`, which should see the
//! caller's `/login` (what Envoy's `prefix_rewrite` would forward, which the filter never
//! sees: it reads `:path` before the router). `strip_path_prefix` names the prefix.

use std::borrow::Cow;

/// `path` (with its query) without `prefix` when it starts with it at a segment's end
/// (`/authentication/login`, `/authentication?x`, `/authentication`); otherwise as it is.
/// What is left always starts with `/`.
pub fn without_prefix<'a>(path: &'a str, prefix: Option<&str>) -> Cow<'a, str> {
    let Some(rest) = prefix.and_then(|p| path.strip_prefix(p)) else {
        return Cow::Borrowed(path);
    };
    match rest.as_bytes().first() {
        Some(b'/') => Cow::Borrowed(rest),
        None => Cow::Borrowed("/"),
        Some(b'?') => Cow::Owned(format!("/{rest}")),
        // `/authenticationX`: another segment, not under the prefix.
        Some(_) => Cow::Borrowed(path),
    }
}

/// Whether `prefix` can be a `strip_path_prefix`: starts with `/`, does not end with one,
/// printable ASCII without `?`, `#` or spaces, at most 1,024 bytes.
pub fn is_path_prefix(prefix: &str) -> bool {
    prefix.len() > 1
        && prefix.len() <= 1024
        && prefix.starts_with('/')
        && !prefix.ends_with('/')
        && prefix
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_goes_only_at_a_segments_end() {
        let p = Some("/authentication");
        for (path, seen) in [
            ("/authentication/login", "/login"),
            ("/authentication/login?next=/x", "/login?next=/x"),
            ("/authentication", "/"),
            ("/authentication?x=1", "/?x=1"),
            ("/authenticationx/login", "/authenticationx/login"),
            ("/billing/login", "/billing/login"),
            ("/", "/"),
        ] {
            assert_eq!(without_prefix(path, p), seen, "{path}");
        }
        assert_eq!(
            without_prefix("/authentication/x", None),
            "/authentication/x"
        );
    }

    #[test]
    fn a_prefix_is_a_plain_path_without_a_trailing_slash() {
        for good in ["/a", "/authentication", "/v1/auth-x_y.z~"] {
            assert!(is_path_prefix(good), "{good}");
        }
        for bad in [
            "",
            "/",
            "a",
            "/a/",
            "/a b",
            "/a?b",
            "/a#b",
            "/ä",
            &format!("/{}", "a".repeat(1024)),
        ] {
            assert!(!is_path_prefix(bad), "{bad}");
        }
    }
}
