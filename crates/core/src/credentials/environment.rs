//! The proxy's environment as the VM sees it (Envoy passes it in through
//! `vm_config.environment_variables`), read once at start.

/// The variables the credential providers look at. Blank values count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnvironment {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub container_relative_uri: Option<String>,
    pub container_full_uri: Option<String>,
    pub container_authorization_token: Option<String>,
    pub container_authorization_token_file: Option<String>,
    pub ec2_metadata_disabled: bool,
    /// IRSA: the token's path (the token comes through Envoy: `super::files`), the role.
    pub web_identity_token_file: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// `regional` (the default) or `legacy` (the global endpoint).
    pub sts_regional_endpoints: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// The shared credentials file (its contents come through Envoy: `super::files`).
    pub shared_credentials_file: Option<String>,
    pub profile: Option<String>,
}

impl ProxyEnvironment {
    /// Reads the variables through `lookup` (`std::env::var` in the filter).
    pub fn load(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            access_key_id: get("AWS_ACCESS_KEY_ID"),
            secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
            session_token: get("AWS_SESSION_TOKEN"),
            container_relative_uri: get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            container_full_uri: get("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            container_authorization_token: get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
            container_authorization_token_file: get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
            ec2_metadata_disabled: get("AWS_EC2_METADATA_DISABLED")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            web_identity_token_file: get("AWS_WEB_IDENTITY_TOKEN_FILE"),
            role_arn: get("AWS_ROLE_ARN"),
            role_session_name: get("AWS_ROLE_SESSION_NAME"),
            sts_regional_endpoints: get("AWS_STS_REGIONAL_ENDPOINTS"),
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            shared_credentials_file: get("AWS_SHARED_CREDENTIALS_FILE"),
            profile: get("AWS_PROFILE"),
        }
    }
}
