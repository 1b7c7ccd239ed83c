//! The registry client (OCI distribution spec / Docker Registry HTTP API v2): how registries
//! are reached ([`config`]: registries.json; [`endpoint`]: HTTPS/HTTP candidates and mirrors;
//! [`tls`]: system roots plus certs.d; [`agents`]: one HTTP agent per registry; [`route`]: the
//! address that answers), authentication challenges, and a blocking pull client (manifests,
//! blobs into the content store, Bearer and Basic auth, retries). Push and Range resumes come
//! next (issue 3).

pub mod agents;
pub mod auth;
pub mod client;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod route;
pub mod tls;
