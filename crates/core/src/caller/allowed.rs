//! A function's `callers`: the mesh callers allowed to invoke it, each a Consul service name
//! or a full SPIFFE ID.
//!
//! - A bare name (`api`) is that service in namespace `default` and partition `default`, in
//!   any datacenter and trust domain the gateway's sidecar accepted (Consul's intentions
//!   match the datacenter as any value too: hashicorp/consul `agent/xds/rbac.go`,
//!   `makeSpiffePattern`, "Datacenter is not verified by RBAC").
//! - A SPIFFE ID (`spiffe://<trust domain>/ns/<ns>/dc/<dc>/svc/<service>`, `/ap/<partition>`
//!   first outside `default`) matches exactly that ID: for other namespaces or partitions, or
//!   to pin the trust domain and datacenter.

use super::spiffe::{parse_service_id, SpiffeError};
use super::{is_service_name, Caller};

/// One entry of a `callers` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedCaller {
    /// A service in namespace and partition `default`.
    Service(String),
    /// Exactly this SPIFFE ID.
    SpiffeId(String),
}

/// Why an entry cannot be a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryError {
    NotAServiceName,
    NotAServiceId(SpiffeError),
}

impl AllowedCaller {
    /// Reads an entry: a SPIFFE ID when it starts with `spiffe:`, else a service name.
    pub fn parse(entry: &str) -> Result<Self, EntryError> {
        if entry.starts_with("spiffe:") {
            parse_service_id(entry).map_err(EntryError::NotAServiceId)?;
            Ok(Self::SpiffeId(entry.to_owned()))
        } else if is_service_name(entry) {
            Ok(Self::Service(entry.to_owned()))
        } else {
            Err(EntryError::NotAServiceName)
        }
    }

    /// Whether `caller` is this entry's. Only a caller a certificate vouched for (with a SPIFFE
    /// ID) can match.
    pub fn admits(&self, caller: &Caller) -> bool {
        let Some(spiffe_id) = caller.spiffe_id.as_deref() else {
            return false;
        };
        match self {
            Self::SpiffeId(wanted) => wanted == spiffe_id,
            Self::Service(name) => {
                parse_service_id(spiffe_id).is_ok_and(|id| id.is_default_service(name))
            }
        }
    }
}

/// Whether any entry of `list` admits `caller`.
pub fn admitted(list: &[AllowedCaller], caller: &Caller) -> bool {
    list.iter().any(|entry| entry.admits(caller))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TD: &str = "11111111-2222-3333-4444-555555555555.consul";

    fn vouched(path: &str) -> Caller {
        let spiffe_id = format!("spiffe://{TD}{path}");
        let service = parse_service_id(&spiffe_id).unwrap().service.to_owned();
        Caller::new(service, Some(spiffe_id))
    }

    #[test]
    fn a_bare_name_is_the_default_namespace_and_partitions_service() {
        let api = AllowedCaller::parse("api").unwrap();
        assert_eq!(api, AllowedCaller::Service("api".into()));
        assert!(api.admits(&vouched("/ns/default/dc/dc1/svc/api")));
        assert!(api.admits(&vouched("/ns/default/dc/dc2/svc/api")));
        assert!(api.admits(&vouched("/ap/default/ns/default/dc/dc1/svc/api")));
        assert!(!api.admits(&vouched("/ns/default/dc/dc1/svc/web")));
        assert!(!api.admits(&vouched("/ns/team/dc/dc1/svc/api")));
        assert!(!api.admits(&vouched("/ap/eu/ns/default/dc/dc1/svc/api")));
        // A configured caller has no certificate behind it.
        let configured = Caller::new("api".into(), None);
        assert!(!api.admits(&configured));
    }

    #[test]
    fn a_spiffe_id_matches_exactly() {
        let wanted = format!("spiffe://{TD}/ap/eu/ns/team/dc/dc1/svc/api");
        let entry = AllowedCaller::parse(&wanted).unwrap();
        assert!(entry.admits(&vouched("/ap/eu/ns/team/dc/dc1/svc/api")));
        assert!(!entry.admits(&vouched("/ap/eu/ns/team/dc/dc2/svc/api")));
        assert!(!entry.admits(&vouched("/ns/team/dc/dc1/svc/api")));
        let list = [AllowedCaller::Service("web".into()), entry];
        assert!(admitted(&list, &vouched("/ns/default/dc/dc1/svc/web")));
        assert!(admitted(&list, &vouched("/ap/eu/ns/team/dc/dc1/svc/api")));
        assert!(!admitted(&list, &vouched("/ns/default/dc/dc1/svc/api")));
    }

    #[test]
    fn bad_entries_are_refused() {
        assert_eq!(AllowedCaller::parse(""), Err(EntryError::NotAServiceName));
        assert_eq!(
            AllowedCaller::parse("a b"),
            Err(EntryError::NotAServiceName)
        );
        assert_eq!(
            AllowedCaller::parse("spiffe://td/gateway/mesh/dc/dc1"),
            Err(EntryError::NotAServiceId(SpiffeError::NotAService))
        );
        assert_eq!(
            AllowedCaller::parse("spiffe:api"),
            Err(EntryError::NotAServiceId(SpiffeError::NotSpiffe))
        );
    }
}
