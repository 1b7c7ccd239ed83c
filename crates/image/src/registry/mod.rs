//! The registry client (OCI distribution spec / Docker Registry HTTP API v2). So far: the
//! parts that need no network, the authentication challenge parser and the endpoint rules.
//! The HTTP client, token flows, blob streaming and push come next (issue 3).

pub mod auth;
pub mod endpoint;
