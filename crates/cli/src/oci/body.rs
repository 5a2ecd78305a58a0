//! Response bodies read with a bound: whole (manifests, configs, tokens) up to a cap, or
//! streamed to a writer with the size and digest checked on the way (layers).

use super::digest::{check, Running};
use super::image::Descriptor;
use super::problem::Problem;
use reqwest::Response;
use std::io::Write;

fn too_big(what: &str, size: u64, cap: u64) -> Problem {
    Problem::Refused(format!(
        "{what} is {size} bytes or more, over the {cap} bytes accepted"
    ))
}

/// The body, refused past `cap` bytes (whatever Content-Length says).
pub async fn read_capped(
    response: &mut Response,
    cap: u64,
    what: &str,
) -> Result<Vec<u8>, Problem> {
    if let Some(length) = response.content_length().filter(|&n| n > cap) {
        return Err(too_big(what, length, cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let size = body.len() as u64 + chunk.len() as u64;
        if size > cap {
            return Err(too_big(what, size, cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Streams the body into `into`: refused as soon as it passes the descriptor's size, checked
/// against the descriptor's digest at the end.
pub async fn stream_verified(
    response: &mut Response,
    descriptor: &Descriptor,
    into: &mut impl Write,
    what: &str,
) -> Result<(), Problem> {
    let mut running = Running::default();
    while let Some(chunk) = response.chunk().await? {
        running.update(&chunk);
        if running.bytes > descriptor.size {
            return Err(Problem::Refused(format!(
                "size mismatch: {what} ({}) should be {} bytes but the registry sends more",
                descriptor.digest, descriptor.size
            )));
        }
        into.write_all(&chunk)
            .map_err(|e| Problem::Other(format!("cannot store {what}: {e}")))?;
    }
    let bytes = running.bytes;
    check(
        what,
        &descriptor.digest,
        descriptor.size,
        &running.digest(),
        bytes,
    )
    .map_err(Problem::Refused)
}
