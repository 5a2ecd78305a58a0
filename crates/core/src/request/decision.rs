//! The one decision for a buffered request: sign it now, answer it, or let it wait for
//! credentials. Made when its body is complete and again, while it waits, on every change of
//! the credentials and every timer tick.

use super::identity::Identity;
use crate::access_keys::Credentials;
use crate::credentials::shared::Availability;
use crate::local_reply::LocalReply;
use std::rc::Rc;

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Sign(Rc<Credentials>),
    Reply(LocalReply),
    Wait,
}

/// For a request of a function of `identity` that may wait until `deadline_ms`.
pub fn decide(identity: &Identity, now_ms: u64, deadline_ms: u64) -> Decision {
    match identity.credentials.borrow().availability(now_ms) {
        Availability::Ready(credentials) => Decision::Sign(Rc::clone(credentials)),
        Availability::Failed(reason) => {
            Decision::Reply(LocalReply::credentials_unavailable(reason))
        }
        Availability::Pending if now_ms >= deadline_ms => Decision::Reply(
            LocalReply::credentials_timeout(identity.max_wait_ms, &identity.provider_names),
        ),
        Availability::Pending => Decision::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{credentials, plugin, NOW_MS};
    use super::*;
    use crate::credentials::shared::SharedRecord;

    #[test]
    fn signs_with_usable_credentials() {
        let p = plugin("");
        *p.identities[0].credentials.borrow_mut() = SharedRecord::succeeded(
            "container",
            credentials(Some(NOW_MS / 1000 + 60)),
            NOW_MS,
            300,
        );
        assert!(matches!(
            decide(&p.identities[0], NOW_MS, NOW_MS),
            Decision::Sign(_)
        ));
        // Within 5 s of Expiration they are no longer used: no credentials, no failure yet.
        assert_eq!(
            decide(&p.identities[0], NOW_MS + 56_000, NOW_MS + 60_000),
            Decision::Wait
        );
    }

    #[test]
    fn waits_until_the_deadline_then_answers_503() {
        let p = plugin("");
        assert_eq!(decide(&p.identities[0], NOW_MS, NOW_MS + 1), Decision::Wait);
        match decide(&p.identities[0], NOW_MS + 1, NOW_MS + 1) {
            Decision::Reply(r) => {
                assert_eq!((r.status, r.code.as_str()), (503, "CredentialsUnavailable"));
                assert!(r.message.contains("after waiting 5000 ms"), "{}", r.message);
                assert!(
                    r.message
                        .contains("environment, web_identity, credentials_file, container"),
                    "{}",
                    r.message
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_fetch_answers_with_its_reason() {
        let p = plugin("");
        let failed = p.identities[0]
            .credentials
            .borrow()
            .failed("container: HTTP 500".into(), NOW_MS);
        *p.identities[0].credentials.borrow_mut() = failed;
        match decide(&p.identities[0], NOW_MS, NOW_MS + 5000) {
            Decision::Reply(r) => {
                assert_eq!(r.status, 503);
                assert!(
                    r.message.starts_with("container: HTTP 500"),
                    "{}",
                    r.message
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
