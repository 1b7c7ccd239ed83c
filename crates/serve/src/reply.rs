//! Responses as dockerd shapes them: JSON bodies, and errors as `{"message": ...}` with the
//! status code of the error's kind (never decided from its text).

use crate::body::Body;
use berth_engine::Error;
use http::{header, Response, StatusCode};

pub type Reply = Response<Body>;

pub fn json(status: StatusCode, v: &impl serde::Serialize) -> Reply {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::bytes(b))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub fn ok(v: &impl serde::Serialize) -> Reply {
    json(StatusCode::OK, v)
}

pub fn status(s: StatusCode) -> Reply {
    Response::builder()
        .status(s)
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

pub fn no_content() -> Reply {
    status(StatusCode::NO_CONTENT)
}

pub fn error(s: StatusCode, message: impl std::fmt::Display) -> Reply {
    json(s, &serde_json::json!({ "message": message.to_string() }))
}

/// An API error: a status and Docker's message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(m: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: m.to_string(),
        }
    }

    pub fn not_found(m: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: m.to_string(),
        }
    }

    pub fn conflict(m: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            message: m.to_string(),
        }
    }

    pub fn internal(m: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: m.to_string(),
        }
    }

    pub fn reply(&self) -> Reply {
        error(self.status, &self.message)
    }
}

/// The status dockerd gives each kind of engine error.
pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::InvalidValue { .. } | Error::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Ambiguous { .. } => StatusCode::BAD_REQUEST,
        Error::Conflict(_) => StatusCode::CONFLICT,
        // dockerd answers a command that cannot be run with 400 ("executable file not
        // found"), which the docker CLI turns into its exit 126/127.
        Error::Exec { .. } => StatusCode::BAD_REQUEST,
        Error::Image(i) => image_status(i),
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn image_status(e: &berth_image::Error) -> StatusCode {
    use berth_image::Error as I;
    match e {
        I::InvalidReference { .. }
        | I::InvalidDigest { .. }
        | I::InvalidPlatform(_)
        | I::BadChange { .. }
        | I::BadArchive(_) => StatusCode::BAD_REQUEST,
        I::BlobNotFound(_) | I::NoPlatform { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError {
            status: status_of(&e),
            message: e.to_string(),
        }
    }
}

impl From<berth_image::Error> for ApiError {
    fn from(e: berth_image::Error) -> ApiError {
        ApiError {
            status: image_status(&e),
            message: e.to_string(),
        }
    }
}

pub type ApiResult = Result<Reply, ApiError>;
