//! `x-forwarded-client-cert` as the gateway's sidecar hands it on (anything before its last
//! element came from the peer): never a panic; a caller is named only by a Consul service's
//! SPIFFE ID within the SPIFFE length bound, found in the header; and a well-formed element
//! appended after any well-formed prefix is the one that names the caller.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::caller::is_service_name;
use mesh_lambda_core::caller::spiffe::{parse_service_id, MAX_SPIFFE_ID};
use mesh_lambda_core::caller::xfcc::{caller, XfccError, MAX_XFCC_BYTES};

const SIDECAR: &str = "By=spiffe://td.consul/ns/default/dc/dc1/svc/lambda-gateway;Hash=ab;\
    Subject=\"CN=api\";URI=spiffe://td.consul/ns/default/dc/dc1/svc/api";

fuzz_target!(|header: &[u8]| {
    let named = caller(header);
    if let Ok(c) = &named {
        let id = c
            .spiffe_id
            .as_deref()
            .expect("a vouched caller has its SPIFFE ID");
        assert!(id.len() <= MAX_SPIFFE_ID);
        assert!(is_service_name(&c.service));
        assert_eq!(
            parse_service_id(id).map(|p| p.service),
            Ok(c.service.as_str())
        );
        assert!(header.windows(id.len()).any(|w| w == id.as_bytes()));
    }
    if header.len() > MAX_XFCC_BYTES {
        assert_eq!(named, Err(XfccError::TooLong));
    }
    // What Envoy's APPEND_FORWARD makes of it: the forgery first, the sidecar's element last.
    // Whatever the forgery, the caller is the sidecar's or nobody.
    let mut appended = header.to_vec();
    appended.push(b',');
    appended.extend_from_slice(SIDECAR.as_bytes());
    if let Ok(c) = caller(&appended) {
        assert_eq!(c.service, "api");
    }
    if named.is_ok() && appended.len() <= MAX_XFCC_BYTES {
        assert_eq!(caller(&appended).map(|c| c.service), Ok("api".to_owned()));
    }
});
