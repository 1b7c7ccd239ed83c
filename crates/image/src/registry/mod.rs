//! The registry client (OCI distribution spec / Docker Registry HTTP API v2): how registries
//! are reached ([`config`]: registries.json; [`endpoint`]: HTTPS/HTTP candidates and mirrors;
//! [`tls`]: system roots plus certs.d; [`agents`]: one HTTP agent per registry; [`route`]: the
//! address that answers), authentication challenges and Bearer tokens ([`token`]), one
//! request path with retries ([`client`]), blob downloads that resume with `Range`
//! ([`resume`]), and push ([`push`]: blob existence checks, cross-repository mounts,
//! monolithic and chunked uploads, manifests).

pub mod agents;
pub mod auth;
pub mod client;
pub mod config;
pub mod credentials;
pub mod endpoint;
pub mod push;
mod resume;
pub mod route;
pub mod search;
pub mod tls;
mod token;
