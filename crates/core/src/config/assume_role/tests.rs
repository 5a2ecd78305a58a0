use crate::config::tests::{err, parse, ARN};
use crate::credentials::chain::AssumeRoleSettings;

const ROLE: &str = "arn:aws:iam::210987654321:role/invoker";

fn read(block: &str) -> AssumeRoleSettings {
    parse(&format!(
        r#"{{"arn":"{ARN}","credentials":{{"assume_role":{block}}}}}"#
    ))
    .unwrap()
    .credentials
    .chain
    .assume_role
    .unwrap()
}

fn refused(block: &str) -> String {
    err(&format!(
        r#"{{"arn":"{ARN}","credentials":{{"assume_role":{block}}}}}"#
    ))
}

#[test]
fn defaults_follow_the_functions_region() {
    assert_eq!(
        read(&format!(r#"{{"role_arn":"{ROLE}"}}"#)),
        AssumeRoleSettings {
            role_arn: ROLE.into(),
            external_id: None,
            session_name: "mesh-lambda".into(),
            duration_seconds: 3600,
            sts_cluster: "sts".into(),
            sts_host: "sts.us-east-1.amazonaws.com".into(),
            region: "us-east-1".into(),
        }
    );
    let cn = parse(
        r#"{"arn":"arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
            "credentials":{"assume_role":{"role_arn":"arn:aws-cn:iam::123456789012:role/r"}}}"#,
    )
    .unwrap();
    let role = cn.credentials.chain.assume_role.unwrap();
    assert_eq!(role.sts_host, "sts.cn-north-1.amazonaws.com.cn");
    assert_eq!(role.region, "cn-north-1");
    assert!(parse(&format!(r#"{{"arn":"{ARN}"}}"#))
        .unwrap()
        .credentials
        .chain
        .assume_role
        .is_none());
}

#[test]
fn every_field_given() {
    let r = read(
        r#"{"role_arn":"arn:aws:iam::210987654321:role/teams/a.b/invoker+x",
            "external_id":"ext:id/1=x@y","session_name":"mesh.1@x","duration_seconds":900,
            "sts_cluster":"sts_fips","sts_host":"STS-FIPS.us-east-1.amazonaws.com:8443"}"#,
    );
    assert_eq!(
        r.role_arn,
        "arn:aws:iam::210987654321:role/teams/a.b/invoker+x"
    );
    assert_eq!(r.external_id.as_deref(), Some("ext:id/1=x@y"));
    assert_eq!(
        (r.session_name.as_str(), r.duration_seconds),
        ("mesh.1@x", 900)
    );
    assert_eq!(r.sts_cluster, "sts_fips");
    assert_eq!(r.sts_host, "sts-fips.us-east-1.amazonaws.com:8443");
    assert_eq!(r.region, "us-east-1");
    assert_eq!(
        read(&format!(
            r#"{{"role_arn":"{ROLE}","duration_seconds":43200}}"#
        ))
        .duration_seconds,
        43200
    );
}

#[test]
fn errors_name_the_field_and_quote_the_value() {
    let role = format!(r#""role_arn":"{ROLE}""#);
    let cases = [
        ("{}".to_owned(), "credentials.assume_role.role_arn: is required"),
        (r#""x""#.to_owned(), r#"credentials.assume_role: expected an object, got "x""#),
        (r#"{"role_arn":"arn:aws:iam::12345678901:role/r"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:iam::12345678901:role/r" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"arn:aws:iam::123456789012:user/r"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:iam::123456789012:user/r" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"arn:aws:sts::123456789012:role/r"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:sts::123456789012:role/r" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"arn:aws:iam:us-east-1:123456789012:role/r"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:iam:us-east-1:123456789012:role/r" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"arn:aws:iam::123456789012:role/"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:iam::123456789012:role/" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"arn:aws:iam::123456789012:role/a//b"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:iam::123456789012:role/a//b" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"arn:aws:iam::123456789012:role/a b"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws:iam::123456789012:role/a b" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (r#"{"role_arn":"role/r"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "role/r" is not an IAM role ARN (arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>, the name 1 to 64 characters, letters, digits and _+=,.@- only)"#),
        (format!(r#"{{{role},"external_id":"x"}}"#),
         r#"credentials.assume_role.external_id: "x" must be 2 to 1224 characters: letters, digits and _+=,.@:/-"#),
        (format!(r#"{{{role},"external_id":"a b"}}"#),
         r#"credentials.assume_role.external_id: "a b" must be 2 to 1224 characters: letters, digits and _+=,.@:/-"#),
        (format!(r#"{{{role},"session_name":"a:b"}}"#),
         r#"credentials.assume_role.session_name: "a:b" must be 2 to 64 characters: letters, digits and _+=,.@-"#),
        (format!(r#"{{{role},"session_name":"{}"}}"#, "s".repeat(65)),
         r#"credentials.assume_role.session_name: "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss" must be 2 to 64 characters: letters, digits and _+=,.@-"#),
        (format!(r#"{{{role},"duration_seconds":899}}"#),
         "credentials.assume_role.duration_seconds: expected a whole number from 900 to 43200, got 899"),
        (format!(r#"{{{role},"sts_cluster":""}}"#),
         "credentials.assume_role.sts_cluster: must not be empty"),
        (format!(r#"{{{role},"sts_host":"sts/x"}}"#),
         r#"credentials.assume_role.sts_host: "sts/x" is not a host name (letters, digits, '.', '-', optional :port)"#),
        (format!(r#"{{{role},"policy":"x"}}"#),
         r#"credentials.assume_role.policy: unknown field "policy", expected one of role_arn, external_id, session_name, duration_seconds, sts_cluster, sts_host, sts_region"#),
        (r#"{"role_arn":"arn:aws-us-gov:iam::123456789012:role/r"}"#.to_owned(),
         r#"credentials.assume_role.role_arn: "arn:aws-us-gov:iam::123456789012:role/r" is in partition aws-us-gov, the function in aws"#),
        (format!(r#"{{{role},"sts_host":"sts.cn-north-1.amazonaws.com.cn"}}"#),
         r#"credentials.assume_role.sts_host: region "cn-north-1" is in partition aws-cn, the function in aws"#),
        (format!(r#"{{{role},"sts_region":"us-gov-west-1"}}"#),
         r#"credentials.assume_role.sts_region: region "us-gov-west-1" is in partition aws-us-gov, the function in aws"#),
        (format!(r#"{{{role},"sts_region":"moon-1"}}"#),
         r#"credentials.assume_role.sts_region: region "moon-1" is in partition none, the function in aws"#),
        (format!(r#"{{{role},"sts_host":"sts.eu-west-1.amazonaws.com","sts_region":"eu-west-2"}}"#),
         r#"credentials.assume_role.sts_region: "eu-west-2" is not the region of sts_host "sts.eu-west-1.amazonaws.com" (eu-west-1)"#),
        (format!(r#"{{{role},"sts_host":"localhost:4566"}}"#),
         r#"credentials.assume_role.sts_host: "localhost:4566" names no region (sts.<region>.<partition domain>, its fips or VPC endpoint name, or sts.amazonaws.com): give sts_region, the region STS signs for"#),
    ];
    for (block, message) in cases {
        assert_eq!(
            refused(&block),
            format!("invalid configuration: {message}"),
            "{block}"
        );
    }
}

/// STS signs for its own region, whatever the function's: the region comes from the host
/// (`sts.<region>.<partition domain>`, botocore's `data/endpoints.json` `defaults.hostname`,
/// and its `sts-fips` variants), from an interface VPC endpoint's name
/// (`vpce-<id>.sts.<region>.vpce.amazonaws.com`, the AWS PrivateLink guide's endpoint-specific
/// DNS names), or is us-east-1 for the global `sts.amazonaws.com` (botocore's `aws-global`
/// endpoint, `credentialScope: us-east-1`; the STS API reference: "Global requests map to the
/// US East (N. Virginia) Region").
#[test]
fn the_call_is_signed_for_the_region_of_sts() {
    for (host, region) in [
        ("sts.amazonaws.com", "us-east-1"),
        ("sts.amazonaws.com:443", "us-east-1"),
        ("sts.eu-west-2.amazonaws.com", "eu-west-2"),
        ("sts-fips.us-east-2.amazonaws.com", "us-east-2"),
        ("sts.ap-southeast-7.amazonaws.com:8443", "ap-southeast-7"),
        (
            "vpce-0123456789abcdef0-abcdefgh.sts.eu-central-1.vpce.amazonaws.com",
            "eu-central-1",
        ),
        (
            "vpce-0123456789abcdef0-abcdefgh-eu-central-1a.sts.eu-central-1.vpce.amazonaws.com",
            "eu-central-1",
        ),
    ] {
        let r = read(&format!(r#"{{"role_arn":"{ROLE}","sts_host":"{host}"}}"#));
        assert_eq!((r.sts_host.as_str(), r.region.as_str()), (host, region));
        // The same region given too is accepted.
        let r = read(&format!(
            r#"{{"role_arn":"{ROLE}","sts_host":"{host}","sts_region":"{region}"}}"#
        ));
        assert_eq!(r.region, region);
    }
    for (host, region) in [
        ("sts.us-gov-west-1.amazonaws.com", Some("us-gov-west-1")),
        (
            "sts.cn-northwest-1.amazonaws.com.cn",
            Some("cn-northwest-1"),
        ),
        ("sts.us-iso-east-1.c2s.ic.gov", Some("us-iso-east-1")),
        ("sts.us-isob-east-1.sc2s.sgov.gov", Some("us-isob-east-1")),
        ("sts.eu-isoe-west-1.cloud.adc-e.uk", Some("eu-isoe-west-1")),
        (
            "sts.us-isof-south-1.csp.hci.ic.gov",
            Some("us-isof-south-1"),
        ),
        ("sts.eusc-de-east-1.amazonaws.eu", Some("eusc-de-east-1")),
        // A region with another partition's domain, or none: no STS endpoint of AWS.
        ("sts.cn-north-1.amazonaws.com", None),
        ("sts.us-east-1.amazonaws.com.cn", None),
        ("sts.us-east-1.api.aws", None),
        ("sts.us-east-1.example.com", None),
        ("vpce-1.sts.us-east-1.amazonaws.com", None),
        ("lambda.us-east-1.amazonaws.com", None),
        ("xsts.us-east-1.amazonaws.com", None),
        ("sts.amazonaws.com.cn", None),
        ("localhost:4566", None),
        ("127.0.0.1", None),
    ] {
        assert_eq!(super::region_of_sts_host(host), region, "{host}");
    }
    // A host that names no region signs for `sts_region`; `sts_region` alone picks STS's
    // endpoint in that region.
    let r = read(&format!(
        r#"{{"role_arn":"{ROLE}","sts_host":"sts.internal.test:4566","sts_region":"eu-west-1"}}"#
    ));
    assert_eq!(
        (r.sts_host.as_str(), r.region.as_str()),
        ("sts.internal.test:4566", "eu-west-1")
    );
    let r = read(&format!(
        r#"{{"role_arn":"{ROLE}","sts_region":"ap-south-2"}}"#
    ));
    assert_eq!(
        (r.sts_host.as_str(), r.region.as_str()),
        ("sts.ap-south-2.amazonaws.com", "ap-south-2")
    );
}

#[test]
fn sts_follows_the_functions_partition() {
    for (function, role, sts_host) in [
        (
            "arn:aws-us-gov:lambda:us-gov-east-1:123456789012:function:f",
            "arn:aws-us-gov:iam::123456789012:role/r",
            "sts.us-gov-east-1.amazonaws.com",
        ),
        (
            "arn:aws-iso:lambda:us-iso-west-1:123456789012:function:f",
            "arn:aws-iso:iam::123456789012:role/r",
            "sts.us-iso-west-1.c2s.ic.gov",
        ),
        (
            "arn:aws-iso-b:lambda:us-isob-east-1:123456789012:function:f",
            "arn:aws-iso-b:iam::123456789012:role/r",
            "sts.us-isob-east-1.sc2s.sgov.gov",
        ),
        (
            "arn:aws-iso-e:lambda:eu-isoe-west-1:123456789012:function:f",
            "arn:aws-iso-e:iam::123456789012:role/r",
            "sts.eu-isoe-west-1.cloud.adc-e.uk",
        ),
        (
            "arn:aws-iso-f:lambda:us-isof-east-1:123456789012:function:f",
            "arn:aws-iso-f:iam::123456789012:role/r",
            "sts.us-isof-east-1.csp.hci.ic.gov",
        ),
    ] {
        let c = parse(&format!(
            r#"{{"arn":"{function}","credentials":{{"assume_role":{{"role_arn":"{role}"}}}}}}"#
        ))
        .unwrap();
        let r = c.credentials.chain.assume_role.unwrap();
        assert_eq!(r.sts_host, sts_host);
        assert_eq!(r.region, c.arn.region);
    }
}
