//! Which function a request is: the one function of the single form (no host call), or in
//! the `functions` form the one the route Envoy chose names in its metadata, under the
//! filter's own name (`filter_metadata.<plugin name>.function`). The route is Envoy's
//! decision, so a caller cannot choose a function with a header of its own.

use super::identity::{Identities, Identity};
use super::settings::FunctionSettings;
use crate::config::{FilterConfig, PluginConfig};
use crate::host::RequestStream;
use std::rc::Rc;

/// The key of the route's filter metadata that names the function.
pub const METADATA_KEY: &str = "function";

/// The configured functions.
pub enum Functions {
    /// Every request is this function's.
    One(Rc<FunctionSettings>),
    /// By name, as the route's metadata names them (in name order).
    ByRoute(Vec<(String, Rc<FunctionSettings>)>),
}

/// What a request is.
#[derive(Clone)]
pub enum Selected {
    Function(Rc<FunctionSettings>),
    /// The route names no function: the request passes untouched.
    NoFunction,
    /// The route names a function that is not configured (or not as a string): the name as
    /// Envoy gave it, cut short.
    Unknown(String),
}

impl Functions {
    /// The functions of `config`; those with equal `credentials` share one identity.
    pub fn new(config: &PluginConfig) -> Self {
        match config {
            PluginConfig::Single(config) => Self::one(config),
            PluginConfig::Named(named) => {
                let mut identities = Identities::default();
                Self::ByRoute(
                    named
                        .iter()
                        .map(|(name, config)| {
                            let identity = identities.of(&config.credentials);
                            (
                                name.clone(),
                                Rc::new(FunctionSettings::new(config, identity)),
                            )
                        })
                        .collect(),
                )
            }
        }
    }

    /// The single form's functions, from its configuration.
    pub fn one(config: &FilterConfig) -> Self {
        let identity = Rc::new(Identity::new(&config.credentials));
        Self::One(Rc::new(FunctionSettings::new(config, identity)))
    }

    /// The single form's function; `None` in the `functions` form.
    pub fn the_one(&self) -> Option<&FunctionSettings> {
        match self {
            Self::One(function) => Some(function),
            Self::ByRoute(_) => None,
        }
    }

    /// The function of the request on `stream`, whose route's metadata is read under
    /// `route_key` (the plugin's name) only in the `functions` form.
    pub fn select(&self, stream: &impl RequestStream, route_key: &str) -> Selected {
        let named = match self {
            Self::One(function) => return Selected::Function(Rc::clone(function)),
            Self::ByRoute(named) => named,
        };
        let path = [
            "xds",
            "route_metadata",
            "filter_metadata",
            route_key,
            METADATA_KEY,
        ];
        let Some(value) = stream.property(&path).filter(|v| !v.is_empty()) else {
            return Selected::NoFunction;
        };
        match named.iter().find(|(name, _)| name.as_bytes() == value) {
            Some((_, function)) => Selected::Function(Rc::clone(function)),
            None => {
                let shown: String = String::from_utf8_lossy(&value).chars().take(64).collect();
                Selected::Unknown(shown)
            }
        }
    }

    /// Every configured function.
    pub fn all(&self) -> impl Iterator<Item = &FunctionSettings> {
        let (one, named) = match self {
            Self::One(function) => (Some(function.as_ref()), None),
            Self::ByRoute(named) => (None, Some(named.iter().map(|(_, f)| f.as_ref()))),
        };
        one.into_iter().chain(named.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_plugin_config;
    use crate::host::fake::{FakeClock, FakeStreams, StreamState};

    const EAST: &str = "arn:aws:lambda:us-east-1:123456789012:function:authentication";
    const WEST: &str = "arn:aws:lambda:us-west-2:123456789012:function:billing";

    fn functions(json: &str) -> Functions {
        Functions::new(&parse_plugin_config(json.as_bytes()).unwrap())
    }

    fn named() -> Functions {
        functions(&format!(
            r#"{{"functions":{{"auth":{{"arn":"{EAST}"}},"billing":{{"arn":"{WEST}"}}}}}}"#
        ))
    }

    /// The selection with the route's metadata `metadata` (path, value) on the stream.
    fn select(f: &Functions, metadata: &[(&[&str], &str)]) -> (Selected, u32) {
        let streams = FakeStreams::new(&FakeClock::at(0));
        let mut state = StreamState::request(&[], b"");
        for (path, value) in metadata {
            state
                .properties
                .push((path.join("."), value.as_bytes().to_vec()));
        }
        let stream = streams.add(1, state);
        let selected = f.select(&stream, "mesh_lambda");
        let reads = streams.with(1, |s| s.property_reads);
        (selected, reads)
    }

    fn host(selected: &Selected) -> Option<String> {
        match selected {
            Selected::Function(f) => Some(f.target.host.clone()),
            _ => None,
        }
    }

    const PATH: &[&str] = &[
        "xds",
        "route_metadata",
        "filter_metadata",
        "mesh_lambda",
        "function",
    ];

    #[test]
    fn the_single_form_takes_every_request_without_a_host_call() {
        let f = functions(&format!(r#"{{"arn":"{EAST}"}}"#));
        let (selected, reads) = select(&f, &[(PATH, "billing")]);
        assert_eq!(
            host(&selected).as_deref(),
            Some("lambda.us-east-1.amazonaws.com")
        );
        assert_eq!(reads, 0);
        assert_eq!(f.all().count(), 1);
    }

    #[test]
    fn the_route_metadata_under_the_plugins_name_names_the_function() {
        let f = named();
        assert_eq!(f.all().count(), 2);
        let (selected, reads) = select(&f, &[(PATH, "billing")]);
        assert_eq!(
            host(&selected).as_deref(),
            Some("lambda.us-west-2.amazonaws.com")
        );
        assert_eq!(reads, 1);
        let (selected, _) = select(&f, &[(PATH, "auth")]);
        assert_eq!(
            host(&selected).as_deref(),
            Some("lambda.us-east-1.amazonaws.com")
        );
    }

    #[test]
    fn a_route_naming_no_function_passes_and_an_unknown_name_is_told() {
        let f = named();
        assert!(matches!(select(&f, &[]).0, Selected::NoFunction));
        assert!(matches!(select(&f, &[(PATH, "")]).0, Selected::NoFunction));
        // Another filter's metadata names nothing for this one.
        let other: &[&str] = &[
            "xds",
            "route_metadata",
            "filter_metadata",
            "other",
            "function",
        ];
        assert!(matches!(
            select(&f, &[(other, "auth")]).0,
            Selected::NoFunction
        ));
        let Selected::Unknown(name) = select(&f, &[(PATH, "Auth")]).0 else {
            panic!("an unknown name")
        };
        assert_eq!(name, "Auth");
        let Selected::Unknown(name) = select(&f, &[(PATH, &"x".repeat(500))]).0 else {
            panic!("an unknown name")
        };
        assert_eq!(name.len(), 64);
    }
}
