//! AWS credentials: where they come from (`chain`: environment, container endpoint, EC2
//! instance metadata, and a role assumed with them through STS), how their documents parse
//! (`document`, `sts_answer` over the top-level `xml`), and how the VMs of one proxy share one
//! fetch and its result (`shared`).

pub mod chain;
pub mod document;
pub mod environment;
pub mod files;
pub mod iso8601;
pub mod profile_file;
mod providers;
pub mod shared;
pub mod sts_answer;
