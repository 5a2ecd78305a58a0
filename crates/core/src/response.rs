//! The `function_error` setting: what the caller gets when the function failed (the rule
//! itself is `request::answer`'s).

/// What the caller gets when the function failed (`function_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FunctionErrors {
    /// 502, with the function's error JSON and `x-amz-function-error`.
    #[default]
    BadGateway,
    /// Lambda's 200 with the error JSON, as the native filter passes it on.
    Passthrough,
}

impl FunctionErrors {
    pub const ALL: [FunctionErrors; 2] = [FunctionErrors::BadGateway, FunctionErrors::Passthrough];

    pub fn name(self) -> &'static str {
        match self {
            FunctionErrors::BadGateway => "bad_gateway",
            FunctionErrors::Passthrough => "passthrough",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}
