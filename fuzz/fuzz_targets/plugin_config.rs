//! The plugin configuration (JSON from Envoy's `configuration` field): `parse_config`, and the
//! VM set-up built from an accepted one. Errors are one line naming a field; what is accepted
//! is a usable function ARN and host, and a request limit within the bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::arn::parse_function_arn;
use mesh_lambda_core::config::{parse_config, MAX_REQUEST_BYTES};
use mesh_lambda_core::credentials::environment::ProxyEnvironment;
use mesh_lambda_core::vm::configure;

fuzz_target!(|data: &[u8]| {
    match parse_config(data) {
        Err(e) => {
            let line = e.to_string();
            assert!(line.starts_with("invalid configuration: "), "{line}");
            assert!(
                !line.contains(['\n', '\r']) && line.len() < 1024,
                "an error is not one short log line: {line:?}"
            );
        }
        Ok(config) => {
            let arn = &config.arn;
            let Ok(again) = parse_function_arn(&arn.function_arn) else {
                panic!("{} does not read back", arn.function_arn);
            };
            assert_eq!(
                (&again.function_arn, &again.region),
                (&arn.function_arn, &arn.region)
            );
            assert_eq!(again.qualifier, None);
            assert!(!config.host.is_empty());
            assert!((1..=MAX_REQUEST_BYTES).contains(&config.max_request_bytes));
            assert!(!config.credentials.chain.providers.is_empty());
            let Ok((plugin, _agent)) = configure(data, ProxyEnvironment::default()) else {
                panic!("configure refused what parse_config accepted");
            };
            let path = &plugin.functions.the_one().unwrap().target.path;
            assert!(path.starts_with("/2015-03-31/functions/arn%3A"));
            assert!(path.bytes().all(|b| b.is_ascii_graphic()));
        }
    }
});
