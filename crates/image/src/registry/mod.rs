//! The registry client (OCI distribution spec / Docker Registry HTTP API v2): endpoint rules,
//! authentication challenges, and a blocking pull client (manifests, blobs into the content
//! store, Bearer and Basic auth, retries). Push, Range resumes, mirrors and certs.d CAs come
//! next (issue 3).

pub mod auth;
pub mod client;
pub mod credentials;
pub mod endpoint;
