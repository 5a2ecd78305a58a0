//! Where a proxy gets the filter's `.wasm` from: a file on the proxy (`wasm_file`), an
//! http(s) URL of the raw module with its sha256 (`wasm_url`, `wasm_sha256`: what Envoy's
//! remote code source and Consul's `builtin/wasm` `Remote` take), or an OCI image with its
//! manifest digest (`oci_image`, `oci_digest`: what Istio's agent pulls and checks). A
//! description may give several; each generator takes the one its platform loads.

use crate::names::{absolute_path, is_hostname, DescriptionError};
use mesh_lambda_core::config::fields::Fields;
use mesh_lambda_core::config::ConfigError;

#[derive(Debug, Clone, Default)]
pub struct WasmSources {
    pub file: Option<String>,
    pub url: Option<WasmUrl>,
    pub oci: Option<OciImage>,
}

/// `wasm_url` and `wasm_sha256`.
#[derive(Debug, Clone)]
pub struct WasmUrl {
    pub url: String,
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// The raw module's sha256, lowercase hex.
    pub sha256: String,
}

/// `oci_image` and `oci_digest`.
#[derive(Debug, Clone)]
pub struct OciImage {
    /// `oci://<registry>/<repository>[:<tag>]`.
    pub image: String,
    /// The manifest digest's hex (after `sha256:`), lowercase.
    pub manifest_sha256: String,
}

/// Reads the five fields (a pair given half is an error naming the missing field).
pub fn read_wasm_sources(fields: &mut Fields<'_>) -> Result<WasmSources, DescriptionError> {
    let file = fields.string("wasm_file");
    let url = fields.string("wasm_url");
    let sha256 = fields.string("wasm_sha256");
    let image = fields.string("oci_image");
    let digest = fields.string("oci_digest");
    let (file, url, sha256, image, digest) = (file?, url?, sha256?, image?, digest?);
    let file = file
        .map(|f| absolute_path(fields, "wasm_file", Some(f), None))
        .transpose()?;
    let url = match pair(fields, ("wasm_url", url), ("wasm_sha256", sha256))? {
        None => None,
        Some((url, sha256)) => Some(WasmUrl::read(fields, url, sha256)?),
    };
    let oci = match pair(fields, ("oci_image", image), ("oci_digest", digest))? {
        None => None,
        Some((image, digest)) => Some(OciImage::read(fields, image, digest)?),
    };
    Ok(WasmSources { file, url, oci })
}

fn pair<'a>(
    fields: &Fields,
    (first, a): (&str, Option<&'a str>),
    (second, b): (&str, Option<&'a str>),
) -> Result<Option<(&'a str, &'a str)>, ConfigError> {
    match (a, b) {
        (None, None) => Ok(None),
        (Some(a), Some(b)) => Ok(Some((a, b))),
        (Some(_), None) => Err(fields.error(second, format!("is required with {first}"))),
        (None, Some(_)) => Err(fields.error(first, format!("is required with {second}"))),
    }
}

fn is_sha256_hex(hex: &str) -> bool {
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `host[:port]` of a URL: a DNS name or IPv4 address, and a port from 1 to 65535.
fn host_and_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => (authority, default_port),
    };
    (is_hostname(host) || host.parse::<std::net::Ipv4Addr>().is_ok())
        .then(|| (host.to_ascii_lowercase(), port))
}

/// Characters a URL here may hold: no spaces, quotes, backslashes or control characters,
/// nothing that would need escaping in the files the generators write.
fn is_plain_url(url: &str) -> bool {
    url.bytes().all(|b| {
        b.is_ascii_graphic()
            && !matches!(b, b'"' | b'\'' | b'\\' | b'`' | b'<' | b'>' | b'{' | b'}')
    })
}

impl WasmUrl {
    fn read(fields: &Fields, url: &str, sha256: &str) -> Result<Self, DescriptionError> {
        let bad = |why: &str| {
            fields.error(
                "wasm_url",
                format!("{url:?} is not an http or https URL of the .wasm ({why})"),
            )
        };
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("it must start with http:// or https://").into());
        };
        if !is_plain_url(url) {
            return Err(bad("it holds characters a URL does not").into());
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported").into());
        }
        let (host, port) = host_and_port(authority, if https { 443 } else { 80 })
            .ok_or_else(|| bad("its host is not a DNS name or IPv4 address with a valid port"))?;
        if path.is_empty() || path.contains('#') {
            return Err(bad("it needs the file's path, without a fragment").into());
        }
        if !is_sha256_hex(sha256) {
            return Err(fields
                .error(
                    "wasm_sha256",
                    format!("{sha256:?} is not a sha256 (64 lowercase hex digits: sha256sum of the .wasm)"),
                )
                .into());
        }
        Ok(Self {
            url: url.to_owned(),
            https,
            host,
            port,
            sha256: sha256.to_owned(),
        })
    }
}

impl OciImage {
    fn read(fields: &Fields, image: &str, digest: &str) -> Result<Self, DescriptionError> {
        let bad = |why: &str| {
            fields.error(
                "oci_image",
                format!("{image:?} is not an OCI image reference like oci://registry.example.com/mesh-lambda:0.1.0 ({why})"),
            )
        };
        let Some(reference) = image.strip_prefix("oci://") else {
            return Err(bad("it must start with oci://").into());
        };
        if reference.contains('@') {
            return Err(bad("give the digest in oci_digest, not in the reference").into());
        }
        let (registry, path) = reference
            .split_once('/')
            .ok_or_else(|| bad("it needs a registry and a repository"))?;
        host_and_port(registry, 443).ok_or_else(|| bad("its registry is not a host[:port]"))?;
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) => (r, Some(t)),
            None => (path, None),
        };
        let component = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        };
        if !repository.split('/').all(component) {
            return Err(bad("its repository must be lowercase path components").into());
        }
        let tag_ok = |t: &str| {
            !t.is_empty()
                && t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                && t.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if tag.is_some_and(|t| !tag_ok(t)) {
            return Err(bad("its tag is not a valid tag").into());
        }
        let manifest_sha256 = match digest.strip_prefix("sha256:") {
            Some(hex) if is_sha256_hex(hex) => hex.to_owned(),
            _ => {
                return Err(fields
                    .error(
                        "oci_digest",
                        format!(
                        "{digest:?} is not a manifest digest (sha256: and 64 lowercase hex digits)"
                    ),
                    )
                    .into())
            }
        };
        Ok(Self {
            image: image.to_owned(),
            manifest_sha256,
        })
    }
}
