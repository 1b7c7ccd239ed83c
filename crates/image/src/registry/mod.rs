//! The registry client (OCI distribution spec / Docker Registry HTTP API v2): endpoint rules,
//! authentication challenges and Bearer tokens, one request path with retries
//! ([`client`]), blob downloads that resume with `Range` ([`resume`]), and push (blob
//! existence checks, cross-repository mounts, monolithic and chunked uploads, manifests).

pub mod auth;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod push;
mod resume;
mod token;
