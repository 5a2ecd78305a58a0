//! Image references as the commands take them: `host[:port]/repository[:tag][@sha256:<hex>]`.
//! The registry is always named (no Docker Hub default), so a reference means one thing.

use super::digest::{is_sha256_hex, PREFIX};
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct ImageRef {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<hex>`
    pub digest: Option<String>,
}

const FORM: &str = "host[:port]/repository[:tag][@sha256:<64 hex>]";

impl ImageRef {
    pub fn parse(text: &str) -> Result<Self, String> {
        let malformed = |why: &str| format!("malformed reference \"{text}\": {why}; write {FORM}");
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                let hex = digest.strip_prefix(PREFIX).unwrap_or("");
                if !is_sha256_hex(hex) {
                    return Err(malformed("the digest is not sha256: and 64 lowercase hex"));
                }
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        let (registry, path) = name
            .split_once('/')
            .ok_or_else(|| malformed("it does not name a registry host"))?;
        if !is_registry(registry) {
            return Err(malformed(&format!(
                "\"{registry}\" is not a registry host (it needs a dot, a port or to be \
                 localhost)"
            )));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag)),
            _ => (path, None),
        };
        if !is_repository(repository) {
            return Err(malformed(&format!(
                "\"{repository}\" is not a repository (lowercase letters, digits, . _ - and /)"
            )));
        }
        if let Some(tag) = tag.filter(|t| !is_tag(t)) {
            return Err(malformed(&format!(
                "\"{tag}\" is not a tag (up to 128 letters, digits, . _ -)"
            )));
        }
        Ok(Self {
            registry: registry.into(),
            repository: repository.into(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The reference oci-client uses (by digest when there is one).
    pub fn to_client(&self) -> oci_client::Reference {
        let (registry, repository) = (self.registry.clone(), self.repository.clone());
        match (&self.tag, &self.digest) {
            (_, Some(digest)) => {
                oci_client::Reference::with_digest(registry, repository, digest.clone())
            }
            (tag, None) => oci_client::Reference::with_tag(
                registry,
                repository,
                tag.clone().unwrap_or_default(),
            ),
        }
    }

    /// This reference pinned to `digest`.
    pub fn at(&self, digest: &str) -> Self {
        Self {
            digest: Some(digest.into()),
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn is_registry(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    name_ok && port_ok && (name.contains('.') || port.is_some() || name == "localhost")
}

fn is_repository(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        })
}

fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn the_accepted_forms_read_back_as_written() {
        for text in [
            "127.0.0.1:5000/mesh-lambda:0.1.0",
            "localhost/team/mesh-lambda",
            "registry.example.com/a/b_c/d-e:v1.2",
            &format!("127.0.0.1:5000/mesh-lambda@sha256:{HEX}"),
            &format!("ghcr.io/o/mesh-lambda:0.1.0@sha256:{HEX}"),
        ] {
            assert_eq!(ImageRef::parse(text).unwrap().to_string(), text);
        }
        let r = ImageRef::parse("127.0.0.1:5000/x/y:t").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "x/y", Some("t"))
        );
        assert_eq!(r.to_client().whole(), "127.0.0.1:5000/x/y:t");
        assert_eq!(
            r.at(&format!("sha256:{HEX}")).to_client().digest(),
            Some(&*format!("sha256:{HEX}"))
        );
    }

    #[test]
    fn malformed_references_are_refused_with_the_expected_form() {
        for (text, why) in [
            ("mesh-lambda:0.1.0", "does not name a registry host"),
            ("mesh-lambda/filter:1", "is not a registry host"),
            ("127.0.0.1:port/x:1", "is not a registry host"),
            ("127.0.0.1:5000/", "is not a repository"),
            ("127.0.0.1:5000/Upper:1", "is not a repository"),
            ("127.0.0.1:5000/x:", "is not a tag"),
            ("127.0.0.1:5000/x:-v", "is not a tag"),
            ("127.0.0.1:5000/x@sha256:abc", "the digest is not"),
            ("127.0.0.1:5000/x@md5:abc", "the digest is not"),
        ] {
            let error = ImageRef::parse(text).unwrap_err();
            assert!(
                error.starts_with(&format!("malformed reference \"{text}\"")),
                "{error}"
            );
            assert!(error.contains(why), "{text}: {error}");
            assert!(error.contains(FORM));
        }
    }
}
