//! Lambda function ARNs (the configuration's `arn`): an accepted one is
//! `function_arn[:qualifier]` again, its parts are what the Invoke path may carry, and its
//! region is one of its partition's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_lambda_core::arn::{check_qualifier, parse_function_arn, partition_of_region};

fuzz_target!(|text: &str| {
    let _ = check_qualifier(text);
    let Ok(arn) = parse_function_arn(text) else {
        return;
    };
    let rebuilt = match &arn.qualifier {
        Some(q) => format!("{}:{q}", arn.function_arn),
        None => arn.function_arn.clone(),
    };
    assert_eq!(rebuilt, text);
    assert_eq!(arn.function_arn.split(':').count(), 7);
    assert_eq!(arn.account.len(), 12);
    assert!((1..=64).contains(&arn.name.len()));
    if let Some(q) = &arn.qualifier {
        assert_eq!(check_qualifier(q), Ok(()));
    }
    assert_eq!(partition_of_region(&arn.region), Some(arn.partition));
    for part in [arn.partition.id, &arn.region, &arn.account, &arn.name] {
        assert!(!part.is_empty() && !part.contains([':', '/', '?', '%', ' ']));
    }
});
