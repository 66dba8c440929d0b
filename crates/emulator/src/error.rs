//! API errors: every failure the REST surface answers with, as a Twilio error JSON body.

use crate::fault::FaultSet;
use crate::policy;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use callspec_model::TwilioError;
use callspec_model::error::code;

/// A failed API request. Each variant renders as `{code, message, more_info, status}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// Missing or wrong credentials, or credentials of another account (401 / 20003).
    Unauthenticated,
    /// No such route or resource (404 / 20404); holds the request path.
    NotFound(String),
    /// The route exists but not with this method (405 / 20004).
    MethodNotAllowed {
        /// The methods the route supports, for the `Allow` header.
        allow: &'static str,
    },
    /// Too many API requests in flight (429 / 20429).
    TooManyRequests,
    /// The body exceeds `Config::max_body_bytes` (413 / 21200).
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body did not arrive within `Config::body_timeout` (408 / 21200); the connection is
    /// closed after the answer.
    BodyTimeout {
        /// The deadline in milliseconds.
        limit_ms: u128,
    },
    /// Any other Twilio error, as decided by validation or the call's state.
    Twilio(TwilioError),
}

impl ApiError {
    /// A 400 with a code and message.
    pub(crate) fn bad_request(code: u32, message: impl Into<String>) -> ApiError {
        ApiError::Twilio(TwilioError::bad_request(code, message))
    }

    /// The Twilio error body this error renders as.
    pub(crate) fn body(&self) -> TwilioError {
        match self {
            ApiError::Unauthenticated => TwilioError::new(code::AUTHENTICATION, 401, "Authenticate"),
            ApiError::NotFound(path) => {
                TwilioError::new(code::NOT_FOUND, 404, format!("The requested resource {path} was not found"))
            }
            ApiError::MethodNotAllowed { allow } => TwilioError::new(
                code::METHOD_NOT_ALLOWED,
                405,
                format!("Method not allowed; this resource supports {allow}"),
            ),
            ApiError::TooManyRequests => TwilioError::new(code::TOO_MANY_REQUESTS, 429, "Too Many Requests"),
            ApiError::BodyTooLarge { limit } => TwilioError::new(
                code::INVALID_PARAMETER,
                413,
                format!("The request body is larger than the emulator's limit of {limit} bytes"),
            ),
            ApiError::BodyTimeout { limit_ms } => TwilioError::new(
                code::INVALID_PARAMETER,
                408,
                format!("The request body did not arrive within the emulator's limit of {limit_ms} ms"),
            ),
            ApiError::Twilio(e) => e.clone(),
        }
    }
}

impl From<TwilioError> for ApiError {
    fn from(e: TwilioError) -> ApiError {
        ApiError::Twilio(e)
    }
}

/// A JSON response with `Content-Type: application/json`.
pub(crate) fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "could not serialize a response body");
            let fallback = TwilioError::new(20500, 500, "Internal Server Error");
            let text = format!(
                r#"{{"code":{},"message":"{}","more_info":"{}","status":500}}"#,
                fallback.code, fallback.message, fallback.more_info
            );
            let mut resp = (StatusCode::INTERNAL_SERVER_ERROR, text).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp
        }
    }
}

impl ApiError {
    /// The response: the error body (as the faults in effect shape it) with its headers.
    pub(crate) fn render(self, faults: FaultSet) -> Response {
        let body = self.body();
        let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = match policy::error_json(faults, self == ApiError::Unauthenticated, &body) {
            Some(changed) => json_response(status, &changed),
            None => json_response(status, &body),
        };
        if let ApiError::MethodNotAllowed { allow } = self {
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let ApiError::BodyTimeout { .. } = self {
            // What is left of the body would be read as the next request: end the connection.
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let ApiError::Unauthenticated = self {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Twilio API\""));
        }
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.render(FaultSet::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_the_http_status_and_a_doc_link() {
        for (err, status, code) in [
            (ApiError::Unauthenticated, 401, 20003),
            (ApiError::NotFound("/x".into()), 404, 20404),
            (ApiError::MethodNotAllowed { allow: "GET" }, 405, 20004),
            (ApiError::TooManyRequests, 429, 20429),
            (ApiError::BodyTooLarge { limit: 1 }, 413, 21200),
            (ApiError::BodyTimeout { limit_ms: 1 }, 408, 21200),
        ] {
            let body = err.body();
            assert_eq!((body.status, body.code), (status, code));
            assert_eq!(body.more_info, format!("https://www.twilio.com/docs/errors/{code}"));
        }
    }
}
