//! Times the per-request signing work, `SigningCache::sign`, on the host CPU: the body hash,
//! the canonical request, the string to sign and the signature. Bodies of 100 B, 10 KB and
//! 1 MB, with and without a session token, each twice: every call in the same second (as
//! under load, where the per-second hash states are reused) and every call in a new second
//! (the per-second states rebuilt each time: what a lone request costs). Prints the median ns
//! per call over several batches.
//!
//! `cargo bench --bench signer` (std only, no harness). Host figures: the filter runs the same
//! code compiled to wasm inside V8, slower, and without the SHA extensions native code may use.

use mesh_lambda_core::access_keys::Credentials;
use mesh_lambda_core::config::parse_config;
use mesh_lambda_core::invoke::{Identity, InvokeTarget, SigningCache};
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"{"arn":"arn:aws:lambda:us-east-1:123456789012:function:authentication","payload_passthrough":true}"#;
/// 2015-08-30T12:36:00Z; the calls stay within its UTC day, so the signing key stays cached
/// as in the filter.
const NOW: u64 = 1_440_938_160;
const BATCHES: usize = 15;
/// Aim for batches of about this long, so the timer's resolution does not matter.
const BATCH_TARGET: Duration = Duration::from_millis(20);

fn credentials(session_token: Option<&str>) -> Rc<Credentials> {
    Rc::new(Credentials {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        session_token: session_token.map(str::to_owned),
        expires_at: None,
    })
}

/// A JSON string of exactly `size` bytes, as the load benchmark sends.
fn json_body(size: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(size);
    body.push(b'"');
    body.resize(size.saturating_sub(1), b'a');
    body.push(b'"');
    body
}

/// Median ns per call of `sign` over `BATCHES` batches; with `new_second`, each call is a
/// second after the one before (within the same day).
fn time_sign(target: &InvokeTarget, creds: &Rc<Credentials>, body: &[u8], new_second: bool) -> f64 {
    let mut cache = SigningCache::default();
    let mut calls = 0u64;
    let mut once = || {
        calls += 1;
        let now = if new_second {
            NOW + calls % 40_000
        } else {
            NOW
        };
        let signature = cache.sign(
            target,
            &Identity::NONE,
            black_box(creds),
            black_box(now),
            black_box(body),
        );
        black_box(signature.ok());
    };
    // Warm up and size the batches.
    let mut per_batch = 1usize;
    loop {
        let start = Instant::now();
        for _ in 0..per_batch {
            once();
        }
        if start.elapsed() >= BATCH_TARGET / 4 || per_batch >= 1 << 24 {
            break;
        }
        per_batch *= 2;
    }
    per_batch = per_batch.saturating_mul(4);
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                once();
            }
            start.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let target = InvokeTarget::new(&parse_config(CONFIG.as_bytes())?);
    let token = "IQoJb3JpZ2luX2VjEBenchmarkSessionToken".repeat(8);
    println!("SigningCache::sign, median ns per call over {BATCHES} batches (host CPU)");
    println!(
        "{:<8} {:>14} {:>16} {:>18} {:>22}",
        "body", "same second", "+token", "new second each", "+token, new second"
    );
    for (label, size) in [("100B", 100), ("10KB", 10_000), ("1MB", 1_000_000)] {
        let body = json_body(size);
        let (plain, with_token) = (credentials(None), credentials(Some(&token)));
        println!(
            "{label:<8} {:>14.0} {:>16.0} {:>18.0} {:>22.0}",
            time_sign(&target, &plain, &body, false),
            time_sign(&target, &with_token, &body, false),
            time_sign(&target, &plain, &body, true),
            time_sign(&target, &with_token, &body, true),
        );
    }
    Ok(())
}
