//! Lambda function ARNs: `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.

use std::fmt;

/// A parsed Lambda function ARN. `function_arn` never carries the qualifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionArn {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
    pub qualifier: Option<String>,
    /// The ARN without its qualifier, as it goes into the Invoke path.
    pub function_arn: String,
}

/// Why a string is not a Lambda function ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(&'static str);

impl fmt::Display for ArnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Parses a full Lambda function ARN, optionally ending in `:qualifier`.
pub fn parse_function_arn(arn: &str) -> Result<FunctionArn, ArnError> {
    let mut parts = arn.split(':');
    let mut next = |what: &'static str| parts.next().ok_or(ArnError(what));
    let prefix = next("expected arn:<partition>:lambda:<region>:<account>:function:<name>")?;
    if prefix != "arn" {
        return Err(ArnError("must start with \"arn:\""));
    }
    let partition = next("missing partition")?;
    let service = next("missing service")?;
    let region = next("missing region")?;
    let account = next("missing account id")?;
    let resource = next("missing resource type \"function\"")?;
    let name = next("missing function name")?;
    let qualifier = parts.next();
    if parts.next().is_some() {
        return Err(ArnError("too many \":\"-separated parts"));
    }
    if !partition.starts_with("aws") || !is_token(partition) {
        return Err(ArnError("partition must be aws, aws-cn, aws-us-gov, ..."));
    }
    if service != "lambda" {
        return Err(ArnError("service must be \"lambda\""));
    }
    if !is_region(region) {
        return Err(ArnError("region must look like us-east-1"));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArnError("account id must be 12 digits"));
    }
    if resource != "function" {
        return Err(ArnError("resource type must be \"function\""));
    }
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ArnError(
            "function name must be 1-64 letters, digits, '-' or '_'",
        ));
    }
    if let Some(q) = qualifier {
        check_qualifier(q).map_err(ArnError)?;
    }
    let function_arn = format!("arn:{partition}:lambda:{region}:{account}:function:{name}");
    Ok(FunctionArn {
        partition: partition.to_owned(),
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
        assert_eq!(arn.partition, "aws-cn");
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
}
