//! Lambda function ARNs: `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`,
//! and the AWS partitions: which regions each holds and the domain of its endpoints.

use std::fmt;

/// An AWS partition: its id (an ARN's second field), the starts of its region names, and the
/// domain its regional endpoints (`<service>.<region>.<domain>`) are under.
#[derive(Debug, PartialEq, Eq)]
pub struct Partition {
    pub id: &'static str,
    /// A region of the partition is one of these, a word and `-<digits>` (`us-` + `east-1`).
    region_starts: &'static [&'static str],
    pub domain: &'static str,
}

/// AWS's partitions, as botocore's `data/partitions.json` defines them (its `regionRegex` and
/// `dnsSuffix`); its `data/endpoints.json` names Lambda's and STS's regional endpoints
/// `{service}.{region}.{dnsSuffix}` in each.
pub const PARTITIONS: [Partition; 8] = [
    Partition {
        id: "aws",
        region_starts: &[
            "us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-",
        ],
        domain: "amazonaws.com",
    },
    Partition {
        id: "aws-cn",
        region_starts: &["cn-"],
        domain: "amazonaws.com.cn",
    },
    Partition {
        id: "aws-us-gov",
        region_starts: &["us-gov-"],
        domain: "amazonaws.com",
    },
    Partition {
        id: "aws-iso",
        region_starts: &["us-iso-"],
        domain: "c2s.ic.gov",
    },
    Partition {
        id: "aws-iso-b",
        region_starts: &["us-isob-"],
        domain: "sc2s.sgov.gov",
    },
    Partition {
        id: "aws-iso-e",
        region_starts: &["eu-isoe-"],
        domain: "cloud.adc-e.uk",
    },
    Partition {
        id: "aws-iso-f",
        region_starts: &["us-isof-"],
        domain: "csp.hci.ic.gov",
    },
    Partition {
        id: "aws-eusc",
        region_starts: &["eusc-de-"],
        domain: "amazonaws.eu",
    },
];

impl Partition {
    /// `<service>.<region>.<domain>`: the service's regional endpoint.
    pub fn endpoint(&self, service: &str, region: &str) -> String {
        format!("{service}.{region}.{}", self.domain)
    }
}

/// The partition `region` belongs to: a start of its, then a word of letters and digits,
/// `-` and digits (`us-gov-west-1` is not `us-` + a word, so it is not in `aws`).
pub fn partition_of_region(region: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| {
        p.region_starts.iter().any(|start| {
            region.strip_prefix(start).is_some_and(|rest| {
                rest.split_once('-').is_some_and(|(word, number)| {
                    !word.is_empty()
                        && word.bytes().all(|b| b.is_ascii_alphanumeric())
                        && !number.is_empty()
                        && number.bytes().all(|b| b.is_ascii_digit())
                })
            })
        })
    })
}

/// A parsed Lambda function ARN. `function_arn` never carries the qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionArn {
    pub partition: &'static Partition,
    pub region: String,
    pub account: String,
    pub name: String,
    pub qualifier: Option<String>,
    /// The ARN without its qualifier, as it goes into the Invoke path.
    pub function_arn: String,
}

/// Why a string is not a Lambda function ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(String);

impl fmt::Display for ArnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a full Lambda function ARN, optionally ending in `:qualifier`.
pub fn parse_function_arn(arn: &str) -> Result<FunctionArn, ArnError> {
    let mut parts = arn.split(':');
    let mut next = |what: &str| parts.next().ok_or_else(|| ArnError(what.into()));
    let prefix = next("expected arn:<partition>:lambda:<region>:<account>:function:<name>")?;
    if prefix != "arn" {
        return Err(ArnError("must start with \"arn:\"".into()));
    }
    let partition = next("missing partition")?;
    let service = next("missing service")?;
    let region = next("missing region")?;
    let account = next("missing account id")?;
    let resource = next("missing resource type \"function\"")?;
    let name = next("missing function name")?;
    let qualifier = parts.next();
    if parts.next().is_some() {
        return Err(ArnError("too many \":\"-separated parts".into()));
    }
    if !PARTITIONS.iter().any(|p| p.id == partition) {
        return Err(ArnError(
            "partition must be one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, \
             aws-iso-f, aws-eusc"
                .into(),
        ));
    }
    if service != "lambda" {
        return Err(ArnError("service must be \"lambda\"".into()));
    }
    if !is_region(region) {
        return Err(ArnError("region must look like us-east-1".into()));
    }
    // A region of another partition has no endpoint in this one (nor the other way round).
    let known = match partition_of_region(region) {
        Some(p) if p.id == partition => p,
        other => {
            return Err(ArnError(format!(
                "region {region} is in partition {}, not {partition}",
                other.map_or("none", |p| p.id)
            )))
        }
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArnError("account id must be 12 digits".into()));
    }
    if resource != "function" {
        return Err(ArnError("resource type must be \"function\"".into()));
    }
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ArnError(
            "function name must be 1-64 letters, digits, '-' or '_'".into(),
        ));
    }
    if let Some(q) = qualifier {
        check_qualifier(q).map_err(|e| ArnError(e.into()))?;
    }
    let function_arn = format!("arn:{partition}:lambda:{region}:{account}:function:{name}");
    Ok(FunctionArn {
        partition: known,
        region: region.to_owned(),
        account: account.to_owned(),
        name: name.to_owned(),
        qualifier: qualifier.map(str::to_owned),
        function_arn,
    })
}

/// A version (`$LATEST`, `7`) or an alias (`live`, `blue-green_1`).
pub fn check_qualifier(q: &str) -> Result<(), &'static str> {
    let ok = q == "$LATEST"
        || (!q.is_empty()
            && q.len() <= 128
            && q.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err("qualifier must be $LATEST, a version number or an alias name (letters, digits, '-', '_')")
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_region(s: &str) -> bool {
    is_token(s) && s.contains('-') && s.bytes().last().is_some_and(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_arn() {
        let arn =
            parse_function_arn("arn:aws:lambda:eu-west-2:123456789012:function:auth").unwrap();
        assert_eq!(arn.region, "eu-west-2");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.name, "auth");
        assert_eq!(arn.qualifier, None);
        assert_eq!(
            arn.function_arn,
            "arn:aws:lambda:eu-west-2:123456789012:function:auth"
        );
    }

    #[test]
    fn splits_off_a_qualifier() {
        let arn =
            parse_function_arn("arn:aws-cn:lambda:cn-north-1:123456789012:function:f:$LATEST")
                .unwrap();
        assert_eq!(arn.qualifier.as_deref(), Some("$LATEST"));
        assert_eq!(arn.partition.id, "aws-cn");
        assert_eq!(
            arn.function_arn,
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:f"
        );
    }

    #[test]
    fn rejects_what_is_not_a_function_arn() {
        for bad in [
            "",
            "not-an-arn",
            "arn:aws:s3:::bucket",
            "arn:aws:lambda:us-east-1:123456789012:layer:l",
            "arn:aws:lambda:us-east-1:12345:function:f",
            "arn:aws:lambda:useast:123456789012:function:f",
            "arn:aws:lambda:us-east-1:123456789012:function:",
            "arn:aws:lambda:us-east-1:123456789012:function:f:",
            "arn:aws:lambda:us-east-1:123456789012:function:f:a:b",
            "arn:aws:lambda:us-east-1:123456789012:function:f g",
            "arn:aws:lambda:us-east-1:123456789012:function:f:a/b",
            "arn:gcp:lambda:us-east-1:123456789012:function:f",
        ] {
            assert!(parse_function_arn(bad).is_err(), "accepted {bad:?}");
        }
    }

    /// Every region of botocore 1.44.5's `data/partitions.json` (its `regions`, without the
    /// `*-global` pseudo-regions) with its partition, and the Lambda and STS endpoints its
    /// `data/endpoints.json` gives there (`{service}.{region}.{dnsSuffix}`, the partition's
    /// `defaults.hostname`; no region overrides the hostname of either service).
    const BOTOCORE: [(&str, &[&str], &str); 8] = [
        (
            "aws",
            &[
                "af-south-1",
                "ap-east-1",
                "ap-east-2",
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-northeast-3",
                "ap-south-1",
                "ap-south-2",
                "ap-southeast-1",
                "ap-southeast-2",
                "ap-southeast-3",
                "ap-southeast-4",
                "ap-southeast-5",
                "ap-southeast-6",
                "ap-southeast-7",
                "ca-central-1",
                "ca-west-1",
                "eu-central-1",
                "eu-central-2",
                "eu-north-1",
                "eu-south-1",
                "eu-south-2",
                "eu-west-1",
                "eu-west-2",
                "eu-west-3",
                "il-central-1",
                "me-central-1",
                "me-south-1",
                "me-west-1",
                "mx-central-1",
                "sa-east-1",
                "sa-west-1",
                "us-east-1",
                "us-east-2",
                "us-west-1",
                "us-west-2",
            ],
            "amazonaws.com",
        ),
        (
            "aws-cn",
            &["cn-north-1", "cn-northwest-1"],
            "amazonaws.com.cn",
        ),
        ("aws-eusc", &["eusc-de-east-1"], "amazonaws.eu"),
        ("aws-iso", &["us-iso-east-1", "us-iso-west-1"], "c2s.ic.gov"),
        (
            "aws-iso-b",
            &["us-isob-east-1", "us-isob-west-1"],
            "sc2s.sgov.gov",
        ),
        ("aws-iso-e", &["eu-isoe-west-1"], "cloud.adc-e.uk"),
        (
            "aws-iso-f",
            &["us-isof-east-1", "us-isof-south-1"],
            "csp.hci.ic.gov",
        ),
        (
            "aws-us-gov",
            &["us-gov-east-1", "us-gov-west-1"],
            "amazonaws.com",
        ),
    ];

    #[test]
    fn every_region_is_in_its_partition_with_its_endpoints() {
        for (id, regions, domain) in BOTOCORE {
            for region in regions {
                let p = partition_of_region(region).unwrap();
                assert_eq!(p.id, id, "{region}");
                assert_eq!(
                    p.endpoint("lambda", region),
                    format!("lambda.{region}.{domain}")
                );
                assert_eq!(p.endpoint("sts", region), format!("sts.{region}.{domain}"));
                let arn = format!("arn:{id}:lambda:{region}:123456789012:function:f");
                assert_eq!(parse_function_arn(&arn).unwrap().partition.id, id);
            }
        }
        for no_region in [
            "us-east",
            "us-gov-west",
            "xx-east-1",
            "cn-north-",
            "aws-global",
            "us-east-1a",
        ] {
            assert_eq!(partition_of_region(no_region), None, "{no_region}");
        }
    }

    #[test]
    fn a_region_of_another_partition_is_refused() {
        for (arn, message) in [
            (
                "arn:aws:lambda:cn-north-1:123456789012:function:f",
                "region cn-north-1 is in partition aws-cn, not aws",
            ),
            (
                "arn:aws-cn:lambda:us-east-1:123456789012:function:f",
                "region us-east-1 is in partition aws, not aws-cn",
            ),
            (
                "arn:aws:lambda:us-gov-west-1:123456789012:function:f",
                "region us-gov-west-1 is in partition aws-us-gov, not aws",
            ),
            (
                "arn:aws-iso-b:lambda:us-iso-east-1:123456789012:function:f",
                "region us-iso-east-1 is in partition aws-iso, not aws-iso-b",
            ),
            (
                "arn:aws-cn:lambda:mars-north-1:123456789012:function:f",
                "region mars-north-1 is in partition none, not aws-cn",
            ),
            (
                "arn:aws-moon:lambda:us-east-1:123456789012:function:f",
                "partition must be one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, \
                 aws-iso-e, aws-iso-f, aws-eusc",
            ),
        ] {
            assert_eq!(parse_function_arn(arn).unwrap_err().to_string(), message);
        }
        let unknown = parse_function_arn("arn:aws-moon:lambda:us-east-1:123456789012:function:f")
            .unwrap_err()
            .to_string();
        for p in &PARTITIONS {
            assert!(unknown.contains(&format!(" {},", p.id)) || unknown.ends_with(p.id));
        }
    }
}
