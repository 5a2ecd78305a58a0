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
        r#"{"role_arn":"arn:aws-us-gov:iam::210987654321:role/teams/a.b/invoker+x",
            "external_id":"ext:id/1=x@y","session_name":"mesh.1@x","duration_seconds":900,
            "sts_cluster":"sts_fips","sts_host":"STS-FIPS.us-east-1.amazonaws.com:8443"}"#,
    );
    assert_eq!(
        r.role_arn,
        "arn:aws-us-gov:iam::210987654321:role/teams/a.b/invoker+x"
    );
    assert_eq!(r.external_id.as_deref(), Some("ext:id/1=x@y"));
    assert_eq!(
        (r.session_name.as_str(), r.duration_seconds),
        ("mesh.1@x", 900)
    );
    assert_eq!(r.sts_cluster, "sts_fips");
    assert_eq!(r.sts_host, "sts-fips.us-east-1.amazonaws.com:8443");
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
         r#"credentials.assume_role.policy: unknown field "policy", expected one of role_arn, external_id, session_name, duration_seconds, sts_cluster, sts_host"#),
    ];
    for (block, message) in cases {
        assert_eq!(
            refused(&block),
            format!("invalid configuration: {message}"),
            "{block}"
        );
    }
}
